namespace Synapse.Grains.Agents;

/// <summary>A model one agent on a silo serves, for merging into <c>GET /v1/models</c>.</summary>
[GenerateSerializer, Immutable, Alias("synapse.AdvertisedModel")]
public sealed record AdvertisedModel
{
    [Id(0)] public required string ModelId { get; init; }

    [Id(1)] public required string AgentId { get; init; }

    [Id(2)] public required string MetadataJson { get; init; }
}
