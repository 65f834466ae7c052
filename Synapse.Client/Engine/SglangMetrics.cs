namespace Synapse.Client.Engine;

/// <summary>
/// SGLang's names, from sgl-project/sglang <c>python/sglang/srt/metrics/collector.py</c>
/// (<c>SchedulerMetricsCollector</c>). The scheduler labels them <c>model_name</c>, <c>engine_type</c>, <c>tp_rank</c>,
/// <c>pp_rank</c>, <c>moe_ep_rank</c> and, with data parallelism, <c>dp_rank</c>; only the first tensor- and
/// pipeline-parallel rank of each data-parallel group counts (the others, with
/// <c>--enable-metrics-for-all-schedulers</c>, repeat the same queue). <c>sglang:token_usage</c> is the fraction of the
/// KV token pool in use.
/// </summary>
internal static class SglangMetrics
{
    public static ReadOnlySpan<byte> Prefix => "sglang:"u8;

    public static ReadOnlySpan<byte> ModelLabel => "model_name"u8;

    public static EngineGauge Classify(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("sglang:num_running_reqs"u8) ? EngineGauge.Running
        : name.SequenceEqual("sglang:num_queue_reqs"u8) ? EngineGauge.Waiting
        : name.SequenceEqual("sglang:token_usage"u8) ? EngineGauge.KvUsage
        : EngineGauge.None;

    /// <summary>False for the series of a second tensor- or pipeline-parallel rank, which repeat the first's.</summary>
    public static bool IsPrimaryRank(ReadOnlySpan<byte> labels) =>
        IsZeroOrAbsent(labels, "tp_rank"u8) && IsZeroOrAbsent(labels, "pp_rank"u8);

    private static bool IsZeroOrAbsent(ReadOnlySpan<byte> labels, ReadOnlySpan<byte> name) =>
        !PrometheusLine.TryGetLabel(labels, name, out var value) || value.SequenceEqual("0"u8);
}
