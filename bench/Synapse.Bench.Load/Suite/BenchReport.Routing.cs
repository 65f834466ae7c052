using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Synapse.Bench.Load.Suite;

/// <summary>The routing phase's part of the report (issue 17).</summary>
internal sealed partial class BenchReport
{
    public List<RoutingRun> Routing { get; } = [];

    /// <summary>The engine-aware policy's ttft p99 below power-of-two-choices', as a share of the latter (slow instance).</summary>
    public double? SlowInstanceP99Reduction(string scenario) =>
        FindRouting(scenario, RoutingScenario.EngineAwarePath) is { } aware
        && FindRouting(scenario, RoutingScenario.PowerOfTwoPath) is { } p2c
        && aware.Measurement.Result.TtftP99Ms is { } a && p2c.Measurement.Result.TtftP99Ms is { } b && b > 0
            ? 1 - (a / b)
            : null;

    private RoutingRun? FindRouting(string scenario, string path) =>
        Routing.FirstOrDefault(r => r.Scenario.Id == scenario && r.Measurement.Path == path);

    private void AppendRouting(StringBuilder text)
    {
        foreach (var scenario in Routing.GroupBy(r => r.Scenario.Id))
        {
            var first = scenario.First().Scenario;
            text.AppendLine();
            text.AppendLine(Invariant($"Routing, {(RoutingScenario.IsSlowInstance(first.Id) ? "slow instance" : "prefix workload")}: {first.Description}"));
            text.AppendLine(Invariant($"  {first.Slices} alternating slices of {first.Slice.TotalSeconds:0} s per setting (settling {first.Settle.TotalSeconds:0.#} s before each, {first.FirstSettle.TotalSeconds:0} s before the first)"));
            foreach (var run in scenario)
            {
                var r = run.Measurement.Result;
                text.AppendLine(Invariant($"  {run.Measurement.Path,-13} ttft p50 {r.TtftP50Ms,7:0.0} / p99 {r.TtftP99Ms,7:0.0} ms, stream p50 {r.LatencyP50Ms,6:0} / p99 {r.LatencyP99Ms,6:0} ms, {r.RequestsPerSecond,6:0.0} streams/s, errors {r.Errors}, other {run.Measurement.Window.ExternalPercent:0}%"));
                text.AppendLine(Invariant($"  {string.Empty,-13} {run.Describe()}"));
            }

            if (RoutingScenario.IsSlowInstance(first.Id) && SlowInstanceP99Reduction(first.Id) is { } reduction)
            {
                text.AppendLine(Invariant($"  ttft p99, engine-aware vs p2c: {reduction:0.0%} lower (goal >= {RoutingScenario.SlowInstanceGoal:0%})"));
            }
        }
    }

    private void RoutingTargets(List<TargetResult> targets)
    {
        foreach (var (scenario, callers) in new[] { (RoutingScenario.SlowInstanceId, RoutingScenario.SaturatingCallers), (RoutingScenario.SlowInstanceModerateId, RoutingScenario.ModerateCallers) })
        {
            var aware = FindRouting(scenario, RoutingScenario.EngineAwarePath);
            var p2c = FindRouting(scenario, RoutingScenario.PowerOfTwoPath);
            var reduction = SlowInstanceP99Reduction(scenario);
            targets.Add(new TargetResult(Invariant($"routing: ttft p99 with a 3x slower instance, {callers} callers"), Invariant($">= {RoutingScenario.SlowInstanceGoal:0%} lower than p2c"),
                reduction is { } v && aware is not null && p2c is not null
                    ? Invariant($"{v:0.0%} lower ({aware.Measurement.Result.TtftP99Ms:0} vs {p2c.Measurement.Result.TtftP99Ms:0} ms)")
                    : "not measured",
                reduction is { } x && aware is not null && p2c is not null ? x >= RoutingScenario.SlowInstanceGoal && aware.Measurement.Result.Errors == 0 && p2c.Measurement.Result.Errors == 0 : null));
        }

        // The issue sets no bound for the prefix workload: it asks for the hit rate and ttft against random.
        var affinity = FindRouting(RoutingScenario.PrefixId, RoutingScenario.AffinityPath);
        var random = FindRouting(RoutingScenario.PrefixId, RoutingScenario.RandomPath);
        targets.Add(new TargetResult("routing: prefix hit rate, affinity vs random", "(reported, no bound)",
            affinity?.HitRate is { } a && random?.HitRate is { } b
                ? Invariant($"{a:0.0%} vs {b:0.0%}, ttft p50 {affinity.Measurement.Result.TtftP50Ms:0.0} vs {random.Measurement.Result.TtftP50Ms:0.0} ms, p99 {affinity.Measurement.Result.TtftP99Ms:0.0} vs {random.Measurement.Result.TtftP99Ms:0.0} ms")
                : "not measured",
            null));
    }

    private JsonObject? RoutingJson()
    {
        if (Routing.Count == 0)
        {
            return null;
        }

        var json = new JsonObject();
        foreach (var scenario in Routing.GroupBy(r => r.Scenario.Id))
        {
            var first = scenario.First().Scenario;
            var runs = new JsonArray();
            foreach (var run in scenario)
            {
                var r = run.Measurement.Result;
                runs.Add(new JsonObject
                {
                    ["path"] = run.Measurement.Path,
                    ["workload"] = run.Measurement.Workload.Id,
                    ["requests_per_second"] = Round(r.RequestsPerSecond, 2),
                    ["ttft_ms"] = new JsonObject { ["p50"] = Round(r.TtftP50Ms, 2), ["p99"] = Round(r.TtftP99Ms, 2) },
                    ["latency_ms"] = new JsonObject { ["p50"] = Round(r.LatencyP50Ms, 2), ["p99"] = Round(r.LatencyP99Ms, 2) },
                    ["ok"] = r.Ok,
                    ["errors"] = r.Errors,
                    ["engine_requests"] = new JsonObject(run.Engines.Zip(run.Counts, (e, c) => KeyValuePair.Create(e, (JsonNode?)c.Requests))),
                    ["engine_mean_queue_wait_ms"] = new JsonObject(run.Engines.Zip(run.Counts, (e, c) => KeyValuePair.Create(e, (JsonNode?)Round(c.MeanQueueWaitMs, 1)))),
                    ["prefix_hits"] = first.Id == RoutingScenario.PrefixId ? run.Counts.Sum(c => c.PrefixHits) : null,
                    ["prefix_misses"] = first.Id == RoutingScenario.PrefixId ? run.Counts.Sum(c => c.PrefixMisses) : null,
                    ["prefix_hit_rate"] = first.Id == RoutingScenario.PrefixId ? Round(run.HitRate, 4) : null,
                });
            }

            json[first.Id] = new JsonObject
            {
                ["description"] = first.Description,
                ["callers"] = first.Callers,
                ["tokens"] = first.Tokens,
                ["turns"] = first.Turns,
                ["slices"] = first.Slices,
                ["slice_seconds"] = first.Slice.TotalSeconds,
                ["settle_seconds"] = first.Settle.TotalSeconds,
                ["runs"] = runs,
                ["ttft_p99_reduction"] = RoutingScenario.IsSlowInstance(first.Id) ? Round(SlowInstanceP99Reduction(first.Id), 4) : null,
            };
        }

        return json;
    }
}
