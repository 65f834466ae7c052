namespace Synapse.Client.Engine;

/// <summary>
/// llama.cpp server's names, from ggml-org/llama.cpp <c>tools/server/server.cpp</c> (formerly
/// <c>examples/server/server.cpp</c>), the <c>/metrics</c> handler, enabled with <c>--metrics</c>: gauges
/// <c>llamacpp:requests_processing</c> and <c>llamacpp:requests_deferred</c>, without labels (one model per server).
/// Servers before the KV-cache API rework also had <c>llamacpp:kv_cache_usage_ratio</c>; newer ones report no KV usage.
/// Its capacity is <c>total_slots</c> from <c>/props</c> (<c>--parallel</c>).
/// </summary>
internal static class LlamaCppMetrics
{
    public static ReadOnlySpan<byte> Prefix => "llamacpp:"u8;

    public static EngineGauge Classify(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("llamacpp:requests_processing"u8) ? EngineGauge.Running
        : name.SequenceEqual("llamacpp:requests_deferred"u8) ? EngineGauge.Waiting
        : name.SequenceEqual("llamacpp:kv_cache_usage_ratio"u8) ? EngineGauge.KvUsage
        : EngineGauge.None;
}
