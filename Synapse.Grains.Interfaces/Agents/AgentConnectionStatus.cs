namespace Synapse.Grains.Agents;

/// <summary>What the status page shows of one agent socket.</summary>
[GenerateSerializer, Immutable, Alias("synapse.AgentConnectionStatus")]
public sealed record AgentConnectionStatus
{
    [Id(0)] public required string AgentId { get; init; }

    [Id(1)] public required string ConnectionId { get; init; }

    [Id(2)] public string? Name { get; init; }

    [Id(3)] public string? Hostname { get; init; }

    [Id(4)] public required string Silo { get; init; }

    [Id(5)] public required string[] Models { get; init; }

    [Id(6)] public required int Capacity { get; init; }

    [Id(7)] public required int InFlight { get; init; }

    [Id(8)] public required bool Draining { get; init; }

    [Id(9)] public required DateTimeOffset ConnectedAt { get; init; }

    [Id(10)] public required DateTimeOffset LastHeartbeat { get; init; }

    [Id(11)] public long RoundTripMs { get; init; }

    [Id(12)] public string? AgentVersion { get; init; }

    /// <summary>The engine's load per model, as last received on this socket (fresh signals only).</summary>
    [Id(13)] public EngineLoad[] Engine { get; init; } = [];

    /// <summary>The key group of the socket's WebSocket key.</summary>
    [Id(14)] public string Group { get; init; } = string.Empty;
}
