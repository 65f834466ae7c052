using Orleans.Concurrency;
namespace Synapse.Grains.Agents;

/// <summary>
/// One agent WebSocket, always active on the silo that holds the socket (pinned placement, never migrated). Other
/// silos send requests through it; the answer comes back on their inbox stream.
/// </summary>
[Alias("synapse.IAgentConnectionGrain")]
public interface IAgentConnectionGrain : IGrainWithStringKey
{
    [Alias("Send")]
    Task<SendResult> Send(RemoteRequest request);

    [Alias("Cancel"), AlwaysInterleave]
    Task Cancel(long requestId);

    /// <summary>The caller has written <paramref name="bytes"/> more to its client: the agent may send that much more.</summary>
    [Alias("Grant"), AlwaysInterleave]
    Task Grant(long requestId, int bytes);
}
