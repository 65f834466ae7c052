using System.Globalization;

namespace Synapse.Bench.Load.Suite;

/// <summary>
/// A workload of the routing phase (issue 17): the fake engines it runs on, the callers, and how its measurement is
/// cut into alternating slices. Slices are long and settle for seconds, because engine queues take a few requests'
/// time to form; all requests are streams.
/// </summary>
internal sealed record RoutingScenario
{
    public const string SlowInstanceId = "routing-slow";

    /// <summary>The slow instance at half the callers: a shorter queue, still more callers than the engines' 8 slots (see <see cref="SlowInstance"/>).</summary>
    public const string SlowInstanceModerateId = "routing-slow-moderate";

    public const int SaturatingCallers = 24;
    public const int ModerateCallers = 12;
    public const string PrefixId = "routing-prefix";

    public const string EngineAwarePath = "engine-aware";
    public const string PowerOfTwoPath = "p2c";
    public const string DefaultsPath = "defaults";
    public const string AffinityPath = "affinity";
    public const string RandomPath = "random";

    /// <summary>The bound: the engine-aware policy's ttft p99 at least this much below power-of-two-choices'.</summary>
    public const double SlowInstanceGoal = 0.30;

    public const int FastTokenMs = 10;
    public const int SlowTokenMs = 30;
    public const int SlowInstanceSlots = 4;
    public const int SlowInstanceAgentCapacity = 24;

    public const int PrefixEngines = 4;
    public const int PrefixSlots = 16;
    public const int PrefixAgentCapacity = 32;
    public const int PrefixTokenMs = 20;
    public const int PrefillMissMs = 40;
    public const int PrefillHitMs = 5;

    /// <summary>
    /// Prefixes each engine remembers: more than the conversations affinity gives one engine (about a quarter of the
    /// callers), fewer than all of them, which is what each engine sees without affinity.
    /// </summary>
    public const int PrefixCapacity = 16;

    public required string Id { get; init; }

    public required Workload Workload { get; init; }

    public required string Description { get; init; }

    public int Tokens => Workload.Tokens;

    public int DelayMs => Workload.DelayMs;

    public int Callers => Workload.Concurrency;

    /// <summary>Turns per conversation (prefix workload); 1 elsewhere.</summary>
    public int Turns { get; init; } = 1;

    public required int Slices { get; init; }

    /// <summary>The measured window of one slice.</summary>
    public required TimeSpan Slice { get; init; }

    /// <summary>Load before a slice's window, not counted: the engines' queues form and the engine signals catch up.</summary>
    public required TimeSpan Settle { get; init; }

    /// <summary>The same for each path's first slice, which also warms up the silo and its agents.</summary>
    public required TimeSpan FirstSettle { get; init; }

    /// <summary>
    /// Two engines, one three times slower. With <see cref="SaturatingCallers"/> both engines' queues are never empty
    /// and, callers waiting for their answers, the mean wait is the same whatever the policy (Little's law: the
    /// requests waiting over the rate the engines finish them); a policy can only even the waits out. With
    /// <see cref="ModerateCallers"/> the queues are shorter (4 waiting in all) and the same holds; with fewer callers
    /// than slots nothing waits, and the time to first token is the prefill whatever the policy. A load that arrives
    /// whatever the answers do, as real users' does, would tell policies apart where this closed loop cannot.
    /// </summary>
    public static RoutingScenario SlowInstance(bool quick, int callers)
    {
        var id = callers == SaturatingCallers ? SlowInstanceId : SlowInstanceModerateId;
        return new RoutingScenario
        {
            Id = id,
            Workload = new Workload($"{id}-x{callers}", $"32-token stream, engines {FastTokenMs} / {SlowTokenMs} ms/token, {callers} callers",
                Stream: true, Tokens: 32, DelayMs: FastTokenMs, Concurrency: callers),
            Description = Invariant($"2 fake engines of {SlowInstanceSlots} slots ({FastTokenMs} and {SlowTokenMs} ms per token, 32 tokens), an agent each (--max-concurrency {SlowInstanceAgentCapacity}), {callers} streaming callers; ") +
                "a silo per setting: engine-aware and p2c (affinity off), defaults (engine-aware, affinity on); a prompt per request",
            Slices = quick ? 2 : 4,
            Slice = TimeSpan.FromSeconds(quick ? 4 : 8),
            Settle = TimeSpan.FromSeconds(quick ? 2 : 3),
            FirstSettle = TimeSpan.FromSeconds(quick ? 4 : 6),
        };
    }

    public static RoutingScenario Prefix(bool quick)
    {
        const int callers = 40;
        const int turns = 8;
        return new RoutingScenario
        {
            Id = PrefixId,
            Workload = new Workload($"{PrefixId}-x{callers}", $"16-token stream, {callers} conversations of {turns} turns",
                Stream: true, Tokens: 16, DelayMs: PrefixTokenMs, Concurrency: callers),
            Description = Invariant($"{PrefixEngines} fake engines of {PrefixSlots} slots with a prefix cache of {PrefixCapacity} prefixes (prefill {PrefillMissMs} ms, {PrefillHitMs} ms on a cached prefix; {PrefixTokenMs} ms per token, 16 tokens), an agent each (--max-concurrency {PrefixAgentCapacity}); ") +
                Invariant($"{callers} callers, each in conversations of {turns} turns whose first 1 KiB is their own; a silo with affinity (the defaults) and one without (p2c, affinity off)"),
            Turns = turns,
            Slices = quick ? 2 : 4,
            Slice = TimeSpan.FromSeconds(quick ? 4 : 8),
            Settle = TimeSpan.FromSeconds(quick ? 1.5 : 2),
            FirstSettle = TimeSpan.FromSeconds(quick ? 4 : 6),
        };
    }

    public static bool IsSlowInstance(string id) => id is SlowInstanceId or SlowInstanceModerateId;

    public static string[] SlowInstanceEngine(int tokenMs) =>
        ["--engine-slots", Invariant($"{SlowInstanceSlots}"), "--token-delay-ms", Invariant($"{tokenMs}")];

    public static string[] PrefixEngine() =>
    [
        "--engine-slots", Invariant($"{PrefixSlots}"), "--token-delay-ms", Invariant($"{PrefixTokenMs}"), "--prefix-cache", "--prefix-capacity", Invariant($"{PrefixCapacity}"),
        "--prefill-ms", Invariant($"{PrefillMissMs}"), "--prefill-hit-ms", Invariant($"{PrefillHitMs}"),
    ];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One path of a routing scenario: its measurement, and what each engine counted during its windows.</summary>
internal sealed record RoutingRun(RoutingScenario Scenario, Measurement Measurement, string[] Engines, EngineCounts[] Counts)
{
    public long Requests => Counts.Sum(c => c.Requests);

    /// <summary>Prefix hits over lookups, at the engines, during the measured windows.</summary>
    public double? HitRate => Counts.Sum(c => c.PrefixHits + c.PrefixMisses) is > 0 and var lookups ? Counts.Sum(c => c.PrefixHits) / (double)lookups : null;

    /// <summary>Each engine's share of the requests the engines received in the windows.</summary>
    public double[] Shares => [.. Counts.Select(c => Requests > 0 ? c.Requests / (double)Requests : 0)];

    public string Describe() =>
        "engines (share of requests, mean queue wait): " + string.Join(", ", Engines.Select((e, i) => string.Create(CultureInfo.InvariantCulture, $"{e} {Shares[i]:0%} {Counts[i].MeanQueueWaitMs:0} ms")))
        + (Scenario.Id == RoutingScenario.PrefixId && HitRate is { } rate ? string.Create(CultureInfo.InvariantCulture, $"; prefix hit rate {rate:0.0%}") : string.Empty);
}
