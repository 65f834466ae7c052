namespace Synapse.Silo.Status;

/// <summary>
/// The whole cluster as <c>GET /status</c> shows it: silos, models with their instances, agents with their sockets;
/// while no agent is connected, how to attach one.
/// </summary>
public sealed record ClusterStatus(
    string Version,
    DateTimeOffset GeneratedAt,
    string AnsweredBy,
    IReadOnlyList<SiloInfo> Silos,
    IReadOnlyList<ModelStatus> Models,
    IReadOnlyList<AgentInfo> Agents,
    AttachGuide? Attach = null);

public sealed record SiloInfo(string Address, string? Name, string Status, bool Local, int Agents, bool Answered);

public sealed record ModelStatus(string Id, int Queued, string Policy, string Group, InstanceStatus[] Instances);

/// <summary>One instance of a model: <c>State</c> is ready, full, unhealthy (cooling down after failures) or draining.</summary>
public sealed record InstanceStatus(
    string AgentId,
    string? Name,
    string? Host,
    string[] Silos,
    string State,
    int InFlight,
    int Capacity,
    double LatencyMs,
    int ConsecutiveFailures,
    DateTimeOffset? LastHeartbeat,
    EngineStatus? Engine = null);

/// <summary>
/// The engine's own load for one instance, as its agent read it (null when the agent reports none): requests running
/// and waiting in the engine, KV-cache usage 0 to 1, the engine's capacity when it says, and when the values arrived.
/// </summary>
public sealed record EngineStatus(string? Engine, int Running, int? Waiting, double? KvUsage, int? Capacity, int IntervalMs, DateTimeOffset ReceivedAt);

public sealed record AgentInfo(
    string AgentId,
    string? Name,
    string? Host,
    string? Version,
    string[] Models,
    int Capacity,
    int InFlight,
    AgentConnectionInfo[] Connections,
    string Group);

public sealed record AgentConnectionInfo(
    string Silo,
    string ConnectionId,
    DateTimeOffset ConnectedAt,
    DateTimeOffset LastHeartbeat,
    long RoundTripMs,
    int InFlight,
    bool Draining);
