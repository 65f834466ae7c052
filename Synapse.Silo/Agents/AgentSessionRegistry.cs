using System.Collections.Concurrent;
using Synapse.Grains.Agents;

namespace Synapse.Silo.Agents;

/// <summary>The agent sockets this silo holds, by the key of their connection grain.</summary>
internal sealed class AgentSessionRegistry : ILocalAgentConnections
{
    private readonly ConcurrentDictionary<string, AgentSession> _sessions = new(StringComparer.Ordinal);

    public IReadOnlyCollection<ILocalAgentConnection> All => [.. _sessions.Values];

    public ICollection<AgentSession> Sessions => _sessions.Values;

    public int Count => _sessions.Count;

    public bool TryGet(string connectionId, out ILocalAgentConnection connection)
    {
        if (_sessions.TryGetValue(connectionId, out var session))
        {
            connection = session;
            return true;
        }

        connection = null!;
        return false;
    }

    public bool TryGetSession(string connectionId, out AgentSession session) =>
        _sessions.TryGetValue(connectionId, out session!);

    internal void Add(AgentSession session) => _sessions[session.ConnectionId] = session;

    internal void Remove(AgentSession session) =>
        _sessions.TryRemove(new KeyValuePair<string, AgentSession>(session.ConnectionId, session));
}
