namespace Synapse.Protocol.Messages;

/// <summary>
/// The load the agent read from its engine (vLLM, SGLang, llama.cpp), per model it advertised on this socket. Sent
/// when a value changed, at most once per <see cref="IntervalMs"/>; each frame replaces the previous one whole, and a
/// model missing from it has no signal (the agent could not read one for 3 intervals, or the engine has none).
/// </summary>
public sealed record EngineSignalsMessage
{
    /// <summary>How often the agent reads its engine, in milliseconds.</summary>
    public required int IntervalMs { get; init; }

    /// <summary>Which engine the values come from (<c>vllm</c>, <c>sglang</c>, <c>llama.cpp</c>); informational.</summary>
    public string? Engine { get; init; }

    public required IReadOnlyList<ModelEngineSignals> Models { get; init; }
}
