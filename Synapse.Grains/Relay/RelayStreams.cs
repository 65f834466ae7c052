using Orleans.Runtime;

namespace Synapse.Grains.Relay;

/// <summary>
/// Every silo has a few inboxes (streams or channels, by transport), consumed by its <see cref="InboxGrain"/>s through
/// implicit subscriptions; the socket's silo publishes a request's response to the caller silo's inbox. Nothing is
/// subscribed per request, and no subscription is stored anywhere: the inbox id alone says which grain, on which silo,
/// consumes it.
/// </summary>
public static class RelayStreams
{
    public const string ProviderName = "synapse";
    public const string InboxNamespace = "synapse-inbox";

    /// <summary>Inbox streams per silo. Publisher and subscriber must agree, so it is not a setting.</summary>
    public const int InboxShards = 8;

    public static StreamId Inbox(SiloAddress silo, int shard) =>
        StreamId.Create(InboxNamespace, InboxKey(silo, shard));

    /// <summary>The key of the inbox stream and of the <see cref="InboxGrain"/> consuming it (pinned by its prefix).</summary>
    public static string InboxKey(SiloAddress silo, int shard) => $"{silo.ToParsableString()}/{shard}";

    public static int ShardOf(long requestId) => (int)((ulong)requestId % InboxShards);
}
