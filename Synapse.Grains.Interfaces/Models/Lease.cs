namespace Synapse.Grains.Models;

/// <summary>The instance chosen for one request. Released exactly once through <see cref="IModelGrain.Release"/>.</summary>
[GenerateSerializer, Immutable, Alias("synapse.Lease")]
public sealed record Lease
{
    [Id(0)] public required long RequestId { get; init; }

    [Id(1)] public required string AgentId { get; init; }

    /// <summary>Key of the agent connection grain for the chosen socket.</summary>
    [Id(2)] public required string ConnectionId { get; init; }

    [Id(3)] public required SiloAddress Silo { get; init; }

    [Id(4)] public string? AgentName { get; init; }
}
