namespace Synapse.Tests.Infrastructure;

/// <summary>Which engine a <see cref="FakeEngine"/> pretends to be, by the endpoints and format it answers with.</summary>
public enum FakeEngineKind
{
    /// <summary>No engine endpoints (like Ollama): 404.</summary>
    None,

    /// <summary>vLLM V1 (0.10): labels <c>engine</c> and <c>model_name</c>, both KV gauge names.</summary>
    Vllm,

    /// <summary>vLLM V0: label <c>model_name</c>, only <c>vllm:gpu_cache_usage_perc</c>.</summary>
    VllmV0,

    /// <summary>SGLang's scheduler collector: labels <c>model_name</c>, <c>engine_type</c>, <c>tp_rank</c>, ...</summary>
    Sglang,

    /// <summary>llama.cpp server with <c>--metrics</c>, as now: no KV gauge, <c>/props</c> has <c>total_slots</c>.</summary>
    LlamaCpp,

    /// <summary>An older llama.cpp server, which still had <c>llamacpp:kv_cache_usage_ratio</c>.</summary>
    LlamaCppWithKv,

    /// <summary>llama.cpp server without <c>--metrics</c>: <c>/metrics</c> is 501, <c>/slots</c> answers.</summary>
    LlamaCppSlots,
}
