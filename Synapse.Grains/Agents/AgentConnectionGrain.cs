using Orleans.Placement;
using Synapse.Grains.Placement;
using Synapse.Grains.Relay;

namespace Synapse.Grains.Agents;

/// <summary>
/// The cluster's handle on one agent socket. Pinned to the socket's silo and never migrated; a call after the silo
/// died fails in placement instead of activating an empty grain elsewhere.
/// </summary>
[SiloPinnedPlacement, Immovable, Reentrant]
internal sealed class AgentConnectionGrain(ILocalAgentConnections connections, RelayPublisher relay)
    : Grain, IAgentConnectionGrain
{
    public Task<SendResult> Send(RemoteRequest request)
    {
        if (!connections.TryGet(this.GetPrimaryKeyString(), out var connection))
        {
            return Task.FromResult(SendResult.ConnectionGone);
        }

        var sink = relay.CreateSink(request.RequestId, request.ReplyTo, connection);
        var result = connection.TryStart(request.ToHead(), request.Body.Span, sink);
        if (result != SendResult.Accepted)
        {
            relay.Abandon(sink);
        }

        return Task.FromResult(result);
    }

    public Task Cancel(long requestId)
    {
        if (connections.TryGet(this.GetPrimaryKeyString(), out var connection))
        {
            connection.Cancel(requestId);
        }

        return Task.CompletedTask;
    }

    public Task Grant(long requestId, int bytes)
    {
        if (bytes > 0 && connections.TryGet(this.GetPrimaryKeyString(), out var connection))
        {
            connection.Grant(requestId, bytes);
        }

        return Task.CompletedTask;
    }
}
