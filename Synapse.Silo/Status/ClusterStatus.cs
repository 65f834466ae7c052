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
    AttachGuide? Attach = null,
    KeyGroupsStatus? KeyGroups = null)
{
    /// <summary>
    /// What <paramref name="caller"/> may see: its own group's models and agents (every group for an admin key). The
    /// silos stay, each counting only the agents shown.
    /// </summary>
    public ClusterStatus ScopedTo(Tenancy.CallerIdentity caller)
    {
        if (caller.IsAdmin)
        {
            return this;
        }

        var agents = Agents.Where(a => caller.CanSee(a.Group)).ToArray();
        var perSilo = agents.SelectMany(a => a.Connections).GroupBy(c => c.Silo).ToDictionary(g => g.Key, g => g.Count());
        return this with
        {
            Models = [.. Models.Where(m => caller.CanSee(m.Group))],
            Agents = agents,
            Silos = [.. Silos.Select(s => s with { Agents = perSilo.GetValueOrDefault(s.Address) })],
        };
    }
}

/// <summary>The key groups in force on the silo that answered, and how its last reload of the file went.</summary>
public sealed record KeyGroupsStatus(
    string Source,
    string Fingerprint,
    string[] Groups,
    DateTimeOffset? LastReloadAt,
    string? LastReloadOutcome,
    string? LastReloadMessage);

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
