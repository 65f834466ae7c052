using Synapse.Grains.Responses;

namespace Synapse.Grains.Relay;

/// <summary>
/// Events of one request that were ready together, published as one stream item to the caller silo's inbox.
/// <see cref="Sequence"/> counts batches per request from 0, so the receiver can restore order and drop duplicates.
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.RelayBatch")]
public sealed record RelayBatch
{
    /// <summary>The sequence of a keepalive: no events, only proof that the path still works.</summary>
    public const int KeepAliveSequence = -1;

    [Id(0)] public required long RequestId { get; init; }

    [Id(1)] public required int Sequence { get; init; }

    // Id 2 held the events in a type of their own before responses had one event type end to end.
    [Id(3)] public required ResponseEvent[] Events { get; init; }
}
