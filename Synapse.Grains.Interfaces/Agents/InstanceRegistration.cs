namespace Synapse.Grains.Agents;

/// <summary>
/// One agent connection's claim to serve a model, refreshed every heartbeat period by the silo holding the socket.
/// Registration is an idempotent upsert keyed by agent id and connection id.
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.InstanceRegistration")]
public sealed record InstanceRegistration
{
    [Id(0)] public required string AgentId { get; init; }

    /// <summary>Key of the <see cref="IAgentConnectionGrain"/> for the socket.</summary>
    [Id(1)] public required string ConnectionId { get; init; }

    [Id(2)] public required SiloAddress Silo { get; init; }

    [Id(3)] public string? Name { get; init; }

    [Id(4)] public string? Hostname { get; init; }

    [Id(5)] public required int Capacity { get; init; }

    /// <summary>The upstream's JSON object for this model, as the agent advertised it.</summary>
    [Id(6)] public required string MetadataJson { get; init; }

    /// <summary>Request ids in flight on this connection, so the model grain can reconcile its counts.</summary>
    [Id(7)] public required long[] ActiveRequests { get; init; }

    [Id(8)] public bool Draining { get; init; }

    [Id(9)] public string? AgentVersion { get; init; }

    [Id(10)] public DateTimeOffset ConnectedAt { get; init; }

    [Id(11)] public required string Model { get; init; }

    /// <summary>The engine's own load for this model when the registration was built; null without a fresh signal.</summary>
    [Id(12)] public EngineLoad? Engine { get; init; }

    /// <summary>The key group of the socket's WebSocket key (its model grain's key starts with it).</summary>
    [Id(13)] public string Group { get; init; } = string.Empty;
}
