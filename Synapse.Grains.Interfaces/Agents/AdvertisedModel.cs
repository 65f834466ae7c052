namespace Synapse.Grains.Agents;

/// <summary>A model one agent on a silo serves, for merging into <c>GET /v1/models</c>.</summary>
[GenerateSerializer, Immutable, Alias("synapse.AdvertisedModel")]
public sealed record AdvertisedModel
{
    [Id(0)] public required string ModelId { get; init; }

    [Id(1)] public required string AgentId { get; init; }

    [Id(2)] public required string MetadataJson { get; init; }

    /// <summary>The key group of the agent's WebSocket key: only that group's callers see the model.</summary>
    [Id(3)] public string Group { get; init; } = string.Empty;
}
