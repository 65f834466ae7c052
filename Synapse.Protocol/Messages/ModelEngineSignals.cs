namespace Synapse.Protocol.Messages;

/// <summary>One model's engine load as the engine itself reports it.</summary>
public sealed record ModelEngineSignals
{
    public required string Model { get; init; }

    /// <summary>Requests the engine is generating for now.</summary>
    public required int Running { get; init; }

    /// <summary>Requests waiting in the engine's own queue; absent when the engine does not say.</summary>
    public int? Waiting { get; init; }

    /// <summary>Fraction of the KV cache in use, 0 to 1; absent when the engine does not say.</summary>
    public double? KvUsage { get; init; }

    /// <summary>Requests the engine runs at once (llama.cpp's slots), when it reports that.</summary>
    public int? Capacity { get; init; }
}
