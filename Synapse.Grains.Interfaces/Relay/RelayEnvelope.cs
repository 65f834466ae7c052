namespace Synapse.Grains.Relay;

/// <summary>
/// One stream item: the batches of every response bound for the same inbox that were ready together. Under load
/// this is what keeps the cross-silo hop from costing one stream item per request per chunk.
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.RelayEnvelope")]
public sealed record RelayEnvelope
{
    [Id(0)] public required RelayBatch[] Batches { get; init; }
}
