namespace Synapse.Client.Engine;

/// <summary>Which engine the agent's upstream is, as far as its load can be read.</summary>
internal enum EngineKind
{
    /// <summary>Nothing readable (Ollama, an unknown server, or not detected yet): no signals.</summary>
    None,

    /// <summary>vLLM's Prometheus <c>/metrics</c>.</summary>
    Vllm,

    /// <summary>SGLang's Prometheus <c>/metrics</c> (started with <c>--enable-metrics</c>).</summary>
    Sglang,

    /// <summary>llama.cpp server's Prometheus <c>/metrics</c> (started with <c>--metrics</c>).</summary>
    LlamaCpp,

    /// <summary>llama.cpp server without <c>--metrics</c>: its <c>/slots</c> list.</summary>
    LlamaCppSlots,
}
