namespace Synapse.Grains.Relay;

/// <summary>The names <see cref="RelayOptions.Transport"/> accepts: how response envelopes cross from the socket's silo to the caller's.</summary>
public static class RelayTransports
{
    /// <summary>
    /// Orleans' broadcast channel: every publish is one call that delivers the envelope to the caller silo's inbox grain
    /// (implicitly subscribed) and completes when it was handed over. Nothing polls.
    /// </summary>
    public const string BroadcastChannel = "BroadcastChannel";

    /// <summary>
    /// Orleans' memory streams: a publish enqueues into a queue grain, and the queue's pulling agent reads it on its
    /// next poll (<see cref="RelayOptions.PollingPeriod"/>) and delivers it to the inbox grain.
    /// </summary>
    public const string MemoryStreams = "MemoryStreams";

    public static IReadOnlyList<string> All { get; } = [BroadcastChannel, MemoryStreams];

    /// <summary>The canonical name for <paramref name="name"/> (case-insensitive), or null for an unknown one.</summary>
    public static string? Find(string? name) =>
        All.FirstOrDefault(t => string.Equals(t, name?.Trim(), StringComparison.OrdinalIgnoreCase));
}
