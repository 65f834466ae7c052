using Orleans.Runtime;

namespace Synapse.Grains.Relay;

/// <summary>
/// Every silo subscribes once, at start-up, to its own inbox streams; the socket's silo publishes a request's
/// response to the caller silo's inbox. Subscriptions never sit on the request path.
/// </summary>
public static class RelayStreams
{
    public const string ProviderName = "synapse";
    public const string InboxNamespace = "synapse-inbox";

    /// <summary>Inbox streams per silo. Publisher and subscriber must agree, so it is not a setting.</summary>
    public const int InboxShards = 4;

    public static StreamId Inbox(SiloAddress silo, int shard) =>
        StreamId.Create(InboxNamespace, $"{silo.ToParsableString()}/{shard}");

    public static int ShardOf(long requestId) => (int)((ulong)requestId % InboxShards);
}
