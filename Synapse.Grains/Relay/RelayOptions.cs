namespace Synapse.Grains.Relay;

/// <summary>How responses cross between silos (section <c>Synapse:Relay</c>; see docs/relay.md).</summary>
public sealed class RelayOptions
{
    public const string SectionName = "Synapse:Relay";

    /// <summary>
    /// The Orleans facility carrying response envelopes, one of <see cref="RelayTransports"/>: the broadcast channel
    /// pushes (nothing polls), memory streams poll their queues every <see cref="PollingPeriod"/>. Every silo of a
    /// cluster must use the same one. Measured side by side in bench/run.sh (see docs/relay.md).
    /// </summary>
    public string Transport { get; set; } = RelayTransports.BroadcastChannel;

    /// <summary>
    /// Memory streams only: how often the pulling agents look for items. 5 ms measured ~10 ms first-item latency
    /// at +15% idle CPU per silo; the Orleans default of 100 ms adds ~80 ms per response.
    /// </summary>
    public TimeSpan PollingPeriod { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Memory streams only: queues in the cluster.</summary>
    public int Queues { get; set; } = 8;

    /// <summary>
    /// A response with nothing to send for this long sends a keepalive, so its caller can tell a slow upstream
    /// (keepalives keep coming) from a broken path (a silo died holding the stream's queue: nothing comes).
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The socket's silo publishes a first keepalive as soon as it takes a request; a caller that hears nothing
    /// within this long gives the path up and retries (normally it arrives within a few milliseconds).
    /// </summary>
    public TimeSpan AcceptTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The accept timeout for a while after the cluster's membership changed: stream queues are moving between
    /// silos then, and a response published into one that is changing hands may never arrive. Retrying sooner
    /// costs little (nothing reached the caller) and keeps the error window after a silo dies short.
    /// </summary>
    public TimeSpan SettlingAcceptTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The stall timeout while the cluster settles: a response that was flowing through a queue lost with a silo
    /// fails after two missed keepalives rather than four, so its caller learns it sooner.
    /// </summary>
    public TimeSpan SettlingStallTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>How long after a membership change the settling timeouts apply.</summary>
    public TimeSpan SettlingPeriod { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>An inbox shard whose path failed is avoided for new requests for this long.</summary>
    public TimeSpan SuspectShardPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the caller's silo looks for cross-silo responses that went silent.</summary>
    public TimeSpan StallCheckPeriod { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Silence after which the caller's silo gives a cross-silo response up as lost.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>
    /// Memory streams only: longest wait of a stream pulling agent between retries of a failed queue read or delivery (Orleans' default
    /// is 10-20 s, which after a silo dies stalls every response routed through a queue it held).
    /// </summary>
    public TimeSpan PullRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a publish keeps being retried: a memory-stream queue whose silo died comes back once membership says
    /// so; a caller silo that stopped answering is either back soon or declared dead, which stops the publish at once.
    /// </summary>
    public TimeSpan PublishRetryWindow { get; set; } = TimeSpan.FromSeconds(15);
}
