namespace Synapse.Bench.Load.Suite;

/// <summary>
/// Issue 15: what limits on the calling key cost, from the two keys of the limits phase, measured in alternation on
/// one silo with the same workload. Positive numbers are what the limited key lost; a negative one is noise.
/// </summary>
internal sealed record LimitsCost(Measurement Plain, Measurement Limited)
{
    /// <summary>The workload of the limits phase: the one-silo phase's chat at 32 callers, under an id of its own so
    /// that its rows are not read against that phase's direct row.</summary>
    public const string WorkloadId = "chat-x32-limits";

    public const string PlainPath = "plain-key";

    public const string LimitedPath = "limited-key";

    /// <summary>The bound: limits may cost less than this share of throughput.</summary>
    public const double Goal = 0.05;

    /// <summary>Throughput the limited key lost, as a share of the plain key's.</summary>
    public double? Throughput => Plain.Result.RequestsPerSecond > 0 ? 1 - (Limited.Result.RequestsPerSecond / Plain.Result.RequestsPerSecond) : null;

    public double AddedP50Ms => Limited.Result.LatencyP50Ms - Plain.Result.LatencyP50Ms;

    public double AddedP99Ms => Limited.Result.LatencyP99Ms - Plain.Result.LatencyP99Ms;

    public bool? Met => Throughput is { } cost ? cost < Goal && Limited.Result.Errors == 0 && Plain.Result.Errors == 0 : null;

    public static LimitsCost? From(BenchReport report) =>
        report.Find(WorkloadId, PlainPath) is { } plain && report.Find(WorkloadId, LimitedPath) is { } limited ? new LimitsCost(plain, limited) : null;
}
