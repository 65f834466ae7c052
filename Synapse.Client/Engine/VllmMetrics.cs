namespace Synapse.Client.Engine;

/// <summary>
/// vLLM's names, from vllm-project/vllm <c>vllm/v1/metrics/loggers.py</c> (<c>PrometheusStatLogger</c>, labels
/// <c>model_name</c> and <c>engine</c>, one series per data-parallel engine) and <c>vllm/engine/metrics.py</c> (v0,
/// label <c>model_name</c>). <c>vllm:gpu_cache_usage_perc</c> was renamed <c>vllm:kv_cache_usage_perc</c> in 0.9; both
/// are fractions (1 = full) despite the name.
/// </summary>
internal static class VllmMetrics
{
    public static ReadOnlySpan<byte> Prefix => "vllm:"u8;

    public static ReadOnlySpan<byte> ModelLabel => "model_name"u8;

    public static EngineGauge Classify(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("vllm:num_requests_running"u8) ? EngineGauge.Running
        : name.SequenceEqual("vllm:num_requests_waiting"u8) ? EngineGauge.Waiting
        : name.SequenceEqual("vllm:kv_cache_usage_perc"u8) ? EngineGauge.KvUsage
        : name.SequenceEqual("vllm:gpu_cache_usage_perc"u8) ? EngineGauge.KvUsageLegacy
        : EngineGauge.None;
}
