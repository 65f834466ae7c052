using System.Collections.Concurrent;
using Synapse.Grains.Agents;
using Synapse.Protocol.Messages;

namespace Synapse.Tests.Grains;

/// <summary>
/// Stand-in for the sockets a silo holds, for grain-level tests only (the end-to-end tests use real agents): it
/// records what the grains ask of it and reports the registrations a test gives it.
/// </summary>
public sealed class StubAgentConnections(ILocalSiloDetails silo) : ILocalAgentConnections
{
    private readonly ConcurrentDictionary<string, StubAgentConnection> _connections = new();

    public SiloAddress Silo => silo.SiloAddress;

    public IReadOnlyCollection<ILocalAgentConnection> All => [.. _connections.Values];

    public bool TryGet(string connectionId, out ILocalAgentConnection connection)
    {
        var found = _connections.TryGetValue(connectionId, out var stub);
        connection = stub!;
        return found;
    }

    public StubAgentConnection Add(string agentId, int capacity, params string[] models)
    {
        var stub = new StubAgentConnection(AgentConnectionKey.Create(silo.SiloAddress, Guid.NewGuid().ToString("N")[..8]), agentId, silo.SiloAddress, capacity, models);
        _connections[stub.ConnectionId] = stub;
        return stub;
    }
}

public sealed class StubAgentConnection(string connectionId, string agentId, SiloAddress silo, int capacity, string[] models) : ILocalAgentConnection
{
    public string ConnectionId { get; } = connectionId;

    public string AgentId { get; } = agentId;

    public AgentClaim? Claim => null;

    /// <summary>Grain tests key model grains by the bare model name: the empty group.</summary>
    public string Group => string.Empty;

    public ConcurrentQueue<long> Started { get; } = new();

    public ConcurrentQueue<long> Cancelled { get; } = new();

    public HashSet<long> Active { get; } = [];

    public SendResult TryStart(RequestHead head, ReadOnlySpan<byte> body, IResponseSink sink)
    {
        Started.Enqueue(head.RequestId);
        return SendResult.Accepted;
    }

    public void Cancel(long requestId) => Cancelled.Enqueue(requestId);

    public void Grant(long requestId, int bytes)
    {
    }

    public InstanceRegistration Registration(string model) => new()
    {
        Model = model,
        AgentId = AgentId,
        ConnectionId = ConnectionId,
        Silo = silo,
        Name = AgentId,
        Capacity = capacity,
        MetadataJson = $$"""{"id":"{{model}}"}""",
        ActiveRequests = [.. Active],
    };

    public IEnumerable<InstanceRegistration> GetRegistrations(string? model) =>
        models.Where(m => model is null || m == model).Select(Registration);

    public AgentConnectionStatus GetStatus() => new()
    {
        AgentId = AgentId,
        ConnectionId = ConnectionId,
        Silo = silo.ToString(),
        Models = models,
        Capacity = capacity,
        InFlight = Active.Count,
        Draining = false,
        ConnectedAt = DateTimeOffset.UtcNow,
        LastHeartbeat = DateTimeOffset.UtcNow,
    };
}
