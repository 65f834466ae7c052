using Synapse.Protocol.Messages;

namespace Synapse.Grains.Agents;

/// <summary>An agent socket held by this silo, as grains and the request pipeline see it.</summary>
public interface ILocalAgentConnection
{
    /// <summary>The key of this socket's <see cref="IAgentConnectionGrain"/>.</summary>
    string ConnectionId { get; }

    string AgentId { get; }

    /// <summary>The key group the socket's WebSocket key belongs to.</summary>
    string Group { get; }

    /// <summary>The identity this socket holds once its handshake was accepted; null before.</summary>
    AgentClaim? Claim { get; }

    /// <summary>
    /// Sends a request to the agent. The body is copied before this returns. From then on every response event goes
    /// to <paramref name="sink"/>, ending with exactly one end event.
    /// </summary>
    SendResult TryStart(RequestHead head, ReadOnlySpan<byte> body, IResponseSink sink);

    /// <summary>The caller went away: tell the agent to abort the upstream request.</summary>
    void Cancel(long requestId);

    /// <summary>The consumer took <paramref name="bytes"/> of the response; the agent may send that much more.</summary>
    void Grant(long requestId, int bytes);

    IEnumerable<InstanceRegistration> GetRegistrations(string? model);

    AgentConnectionStatus GetStatus();
}
