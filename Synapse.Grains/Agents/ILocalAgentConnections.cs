namespace Synapse.Grains.Agents;

/// <summary>The agent sockets this silo holds, by connection grain key.</summary>
public interface ILocalAgentConnections
{
    bool TryGet(string connectionId, out ILocalAgentConnection connection);

    IReadOnlyCollection<ILocalAgentConnection> All { get; }
}
