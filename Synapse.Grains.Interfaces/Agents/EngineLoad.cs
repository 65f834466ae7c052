namespace Synapse.Grains.Agents;

/// <summary>
/// One model's load as its engine (vLLM, SGLang, llama.cpp) reported it, read by the agent next to it and received
/// over the agent's socket. Absent (null) wherever the agent has no fresh reading.
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.EngineLoad")]
public sealed record EngineLoad
{
    [Id(0)] public required string Model { get; init; }

    /// <summary>Requests the engine is generating for now.</summary>
    [Id(1)] public required int Running { get; init; }

    /// <summary>Requests waiting in the engine's own queue; null when the engine does not say.</summary>
    [Id(2)] public int? Waiting { get; init; }

    /// <summary>Fraction of the KV cache in use, 0 to 1; null when the engine does not say.</summary>
    [Id(3)] public double? KvUsage { get; init; }

    /// <summary>Requests the engine runs at once, when it reports that (llama.cpp's slots).</summary>
    [Id(4)] public int? Capacity { get; init; }

    /// <summary>How often the agent reads its engine.</summary>
    [Id(5)] public required int IntervalMs { get; init; }

    /// <summary>When the gateway received these values (they are at most one interval older).</summary>
    [Id(6)] public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary><c>vllm</c>, <c>sglang</c> or <c>llama.cpp</c>.</summary>
    [Id(7)] public string? Engine { get; init; }
}
