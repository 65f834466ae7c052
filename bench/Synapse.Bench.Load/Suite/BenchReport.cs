using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Synapse.Bench.Load.Suite;

/// <summary>1,000 agents on one silo: how long they took to register and what the silo paid for them.</summary>
internal sealed record ManyAgentsResult(int Agents, double RegistrationSeconds, long SiloRssBeforeKb, long SiloRssAfterKb, double SiloIdleCpuPercent, long AgentsProcessRssKb, int ClientCountAtEnd)
{
    public double KbPerAgent => (SiloRssAfterKb - SiloRssBeforeKb) / (double)Agents;
}

/// <summary>One process's CPU while its silos carried no traffic, one agent connected.</summary>
internal sealed record IdleCpuResult(string Transport, string Cluster, string Role, double PercentOfCore, double Seconds);

/// <summary>A target from the issue, and where this run stands against it.</summary>
internal sealed record TargetResult(string Name, string Goal, string Measured, bool? Met);

/// <summary>Everything one run measured: printed as one table, written as JSON.</summary>
internal sealed partial class BenchReport(SuiteSettings settings, Machine machine)
{
    public Machine Machine { get; } = machine;

    public List<Measurement> Measurements { get; } = [];

    public Dictionary<string, long> Idle { get; } = new(StringComparer.Ordinal);

    public bool AgentIdleIsAot { get; set; }

    public ManyAgentsResult? ManyAgents { get; set; }

    public List<IdleCpuResult> IdleCpu { get; } = [];

    public string? Failure { get; set; }

    public double TotalSeconds { get; set; }

    public Measurement? Find(string workloadId, string path) =>
        Measurements.FirstOrDefault(m => m.Workload.Id == workloadId && m.Path == path);

    /// <summary>Every measurement of a path with one relay transport (several when it ran more than once).</summary>
    public Measurement[] FindAll(string workloadId, string path, string? transport) =>
        [.. Measurements.Where(m => m.Workload.Id == workloadId && m.Path == path && m.Transport == transport)];

    /// <summary>The relay transports the two-silo and idle phases ran with, in the order they first ran.</summary>
    public string[] Transports =>
        [.. Measurements.Select(m => m.Transport).Concat(IdleCpu.Select(i => i.Transport)).OfType<string>().Distinct()];

    public static double? RatioToDirect(Measurement m) =>
        (m.Path == "direct" ? m : m.Baseline) is { Result.RequestsPerSecond: > 0 } direct ? m.Result.RequestsPerSecond / direct.Result.RequestsPerSecond : null;

    public static double? AddedP50(Measurement m) =>
        m.Baseline is { } direct ? m.Result.LatencyP50Ms - direct.Result.LatencyP50Ms : null;

    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Synapse benchmark, {Machine.Cores} cores ({Machine.CpuModel}), {Machine.Runtime}, commit {Machine.Commit}"));
        text.AppendLine(Invariant($"{settings.Duration.TotalSeconds:0} s per path and workload, in {settings.Slices} slices alternating with the paths measured beside it, after a warm-up of {settings.Warmup.TotalSeconds:0} s or more (many callers, paced streams)"));
        text.AppendLine("Load generator, fake upstream, agent and silos share the machine. Each direct row is the baseline of the rows below it, measured in alternation with them:");
        text.AppendLine("ratio = req/s over that direct req/s; +p50 = latency p50 minus direct's; ttft = time to first SSE event; gap = mean time between SSE events;");
        text.AppendLine("gw/agent us/req = CPU microseconds per request in the silo(s) / the agent; other% = busy CPU outside the benchmark's processes, % of one core");
        text.AppendLine();
        string[] header = ["workload", "path", "req/s", "ratio", "p50 ms", "p99 ms", "+p50 ms", "ttft p50", "ttft p99", "gap ms", "errors", "gw us/req", "agent us/req", "other%"];
        int[] widths = [-40, -30, 9, 6, 8, 8, 8, 9, 9, 7, 6, 9, 12, 6];
        if (Measurements.Count > 0)
        {
            text.AppendLine(Row(header, widths));
            text.AppendLine(new string('-', widths.Sum(Math.Abs) + (widths.Length - 1) * 2));
        }

        foreach (var group in Measurements.GroupBy(m => m.Workload.Id))
        {
            foreach (var m in group)
            {
                var r = m.Result;
                text.AppendLine(Row(
                [
                    m.Workload.Label, m.Transport is { } transport ? $"{m.Path} [{transport}]" : m.Path, F(r.RequestsPerSecond, "0.0"), F(RatioToDirect(m), "0.00"), F(r.LatencyP50Ms, "0.000"), F(r.LatencyP99Ms, "0.00"),
                    F(AddedP50(m), "+0.000;-0.000"), F(r.TtftP50Ms, "0.000"), F(r.TtftP99Ms, "0.00"), F(r.GapMeanMs, "0.000"), Invariant($"{r.Errors}"),
                    // On direct rows the silo and agent sit idle; their CPU then is background, kept in the JSON only.
                    m.Path == "direct" ? "-" : F(m.GatewayMicrosPerRequest, "0"), m.Path == "direct" ? "-" : F(m.AgentMicrosPerRequest, "0"),
                    F(m.Window.ExternalPercent, "0"),
                ], widths));
            }
        }

        var capacity = Measurements.Where(m => m.Workload.Concurrency == settings.CapacityStreams && m.Workload.DelayMs == 50).ToArray();
        if (capacity.Length > 0)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"Capacity: {settings.CapacityStreams} concurrent 32-token streams at 50 ms/token (ideal: ttft ~50 ms, gap ~50 ms)"));
            foreach (var m in capacity)
            {
                var rss = m.Window.PeakRssKb;
                text.AppendLine(Invariant($"  {m.Path,-9} ttft p50 {m.Result.TtftP50Ms:0.0} / p99 {m.Result.TtftP99Ms:0.0} ms, gap {m.Result.GapMeanMs:0.0} ms (p99 {m.Result.GapP99Ms:0.0}), stream p50 {m.Result.LatencyP50Ms:0} / p99 {m.Result.LatencyP99Ms:0} ms, {m.Result.RequestsPerSecond:0} streams/s, errors {m.Result.Errors}")
                    + (m.Path == "direct" ? string.Empty : Invariant(
                        $"\n            gateway RSS peak {BenchSuite.Kb(rss.GetValueOrDefault("gateway"))}, CPU {m.GatewayCpuPercent:0}% of a core; agent RSS peak {BenchSuite.Kb(rss.GetValueOrDefault("agent"))}, CPU {m.AgentCpuPercent:0}% of a core")));
            }
        }

        if (LimitsCost.From(this) is { } limits)
        {
            text.AppendLine();
            text.AppendLine($"Limits on the calling key: one silo, chat at 32 callers, alternating slices between two keys of one group, one with limits that never refuse ({LimitsConfig.Limits})");
            foreach (var m in new[] { limits.Plain, limits.Limited })
            {
                text.AppendLine(Invariant($"  {m.Path,-12} {m.Result.RequestsPerSecond,9:0.0} req/s, p50 {m.Result.LatencyP50Ms:0.000} / p99 {m.Result.LatencyP99Ms:0.00} ms, gateway {m.GatewayMicrosPerRequest:0} us/req, errors {m.Result.Errors}"));
            }

            text.AppendLine(Invariant($"  cost: {limits.Throughput:0.0%} of throughput, p50 {limits.AddedP50Ms:+0.000;-0.000} ms, p99 {limits.AddedP99Ms:+0.00;-0.00} ms"));
        }

        AppendRouting(text);

        if (ManyAgents is { } many)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"{many.Agents} agents on one silo: all registered (client_count {many.ClientCountAtEnd}) {many.RegistrationSeconds:0.00} s after the agents process started"));
            text.AppendLine(Invariant($"  silo RSS {BenchSuite.Kb(many.SiloRssBeforeKb)} -> {BenchSuite.Kb(many.SiloRssAfterKb)}: {many.KbPerAgent:0.0} KiB per agent; silo CPU with all of them idle {many.SiloIdleCpuPercent:0.0}% of a core"));
        }

        AppendFourSilos(text);
        if (IdleCpu.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Idle CPU, one agent connected, no traffic (utime + stime from /proc, % of one core):");
            foreach (var run in IdleCpu.GroupBy(i => (i.Transport, i.Cluster)))
            {
                text.AppendLine(Invariant($"  relay {run.Key.Transport}, {run.Key.Cluster}: ") + string.Join(", ", run.Select(i => Invariant($"{i.Role} {i.PercentOfCore:0.0}%"))));
            }
        }

        AppendIdleAgents(text);
        if (Idle.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Idle resident memory: " + string.Join("; ", Idle.Select(i => $"{i.Key.Replace("_rss_kb", string.Empty, StringComparison.Ordinal)} {BenchSuite.Kb(i.Value)}")));
        }

        text.AppendLine();
        AppendTargets(text);

        if (Failure is not null)
        {
            text.AppendLine();
            text.AppendLine($"RUN FAILED: {Failure}");
        }

        text.Append(Invariant($"\ntotal run time {TotalSeconds:0} s"));
        return text.ToString();
    }

    public IReadOnlyList<TargetResult> Targets()
    {
        var targets = new List<TargetResult>();
        void Ratio(string name, string workload, double goal)
        {
            var m = Find(workload, "one-silo");
            var ratio = m is null ? null : RatioToDirect(m);
            targets.Add(new TargetResult(name, Invariant($">= {goal:0%} of direct"), ratio is { } v ? Invariant($"{v:0%}") : "not measured", ratio is { } x ? x >= goal : null));
        }

        void Added(string name, string workload, double goalMs)
        {
            var m = Find(workload, "one-silo");
            var added = m is null ? null : AddedP50(m);
            targets.Add(new TargetResult(name, Invariant($"< {goalMs} ms added p50"), added is { } v ? Invariant($"{v:+0.000;-0.000} ms") : "not measured", added is { } x ? x < goalMs : null));
        }

        // Issue 16's goals (they were 40% and 30%).
        Ratio("one silo, non-streaming chat, 32 callers", "chat-x32", 0.45);
        Ratio("one silo, 32-token streams, 32 callers", "stream32-x32", 0.40);
        Added("one silo, non-streaming chat, 1 caller", "chat-x1", 0.5);
        Added("one silo, 32-token stream, 1 caller", "stream32-x1", 1.0);

        foreach (var transport in Transports.DefaultIfEmpty("default"))
        {
            RelayTargets(targets, transport);
            IdleAgentsTarget(targets, transport);
        }

        var limits = LimitsCost.From(this);
        targets.Add(new TargetResult("limits on the calling key, chat, 32 callers", Invariant($"< {LimitsCost.Goal:0%} of throughput"),
            limits is { Throughput: { } cost } l
                ? Invariant($"{cost:0.0%} ({l.Limited.Result.RequestsPerSecond:0} vs {l.Plain.Result.RequestsPerSecond:0} req/s, p50 {l.AddedP50Ms:+0.000;-0.000} ms, p99 {l.AddedP99Ms:+0.00;-0.00} ms)")
                : "not measured",
            limits?.Met));

        RoutingTargets(targets);

        var capacityId = $"stream32-50ms-x{settings.CapacityStreams}";
        var silo = Find(capacityId, "one-silo");
        var direct = Find(capacityId, "direct");
        if (silo is not null && direct is not null)
        {
            // "Flat": no errors, first token no more than 10 ms later and chunks no more than 10% further apart than direct.
            var ttft = silo.Result.TtftP50Ms - direct.Result.TtftP50Ms;
            var gapRatio = silo.Result.GapMeanMs / direct.Result.GapMeanMs;
            targets.Add(new TargetResult(Invariant($"{settings.CapacityStreams} streams through one silo, flat latency"), "0 errors, ttft +10 ms, gap +10%",
                Invariant($"{silo.Result.Errors} errors, ttft p50 {ttft:+0.0;-0.0} ms, gap x{gapRatio:0.00} (ttft p99 {silo.Result.TtftP99Ms:0} vs {direct.Result.TtftP99Ms:0} ms)"),
                silo.Result.Errors == 0 && ttft <= 10 && gapRatio <= 1.10));
        }
        else
        {
            targets.Add(new TargetResult($"{settings.CapacityStreams} streams through one silo, flat latency", "0 errors, ttft +10 ms, gap +10%", "not measured", null));
        }

        targets.Add(MemoryPerAgentTarget());

        if (Idle.TryGetValue("agent_aot_rss_kb_idle", out var aot))
        {
            targets.Add(new TargetResult("agent idle RSS (Native AOT)", "<= 16 MiB", BenchSuite.Kb(aot), aot <= 16 * 1024));
        }
        else if (Idle.TryGetValue("agent_fallback_dll_rss_kb_idle", out var dll))
        {
            targets.Add(new TargetResult("agent idle RSS (no AOT binary: dotnet dll)", "<= 16 MiB", BenchSuite.Kb(dll), dll <= 16 * 1024));
        }
        else
        {
            targets.Add(new TargetResult("agent idle RSS", "<= 16 MiB", "not measured", null));
        }

        return targets;
    }

    /// <summary>Issue 16's rows about the relay, for one transport; several runs of it are averaged.</summary>
    private void RelayTargets(List<TargetResult> targets, string transport)
    {
        static double? Mean(IEnumerable<double?> values) => values.OfType<double>().ToArray() is { Length: > 0 } v ? v.Average() : null;
        double? Pair(string workload, Func<Measurement, Measurement, double?> of) =>
            Mean(FindAll(workload, "cross-silo", transport).Zip(FindAll(workload, "same-silo", transport), of));

        var chat = Pair("chat-x32", (c, s) => s.Result.RequestsPerSecond > 0 ? c.Result.RequestsPerSecond / s.Result.RequestsPerSecond : null);
        targets.Add(new TargetResult(Invariant($"cross-silo chat, 32 callers [{transport}]"), ">= 80% of same-silo",
            chat is { } c ? Invariant($"{c:0%} of same-silo") : "not measured", chat is { } x ? x >= 0.80 : null));

        var added = Mean(FindAll("stream32-x1", "cross-silo", transport).Select(AddedP50));
        var overSame = Pair("stream32-x1", (c, s) => c.Result.LatencyP50Ms - s.Result.LatencyP50Ms);
        targets.Add(new TargetResult(Invariant($"cross-silo 32-token stream, 1 caller [{transport}]"), "<= +1.5 ms added p50",
            added is { } a ? Invariant($"{a:+0.000;-0.000} ms ({overSame:+0.000;-0.000} over same-silo)") : "not measured", added is { } y ? y <= 1.5 : null));

        var crossId = $"stream32-5ms-x{settings.CrossSiloStreams}";
        var ttft = Pair(crossId, (c, s) => c.Result.TtftP50Ms - s.Result.TtftP50Ms);
        targets.Add(new TargetResult(Invariant($"cross-silo ttft p50 over same-silo, {settings.CrossSiloStreams} streams [{transport}]"), "<= +2 ms",
            ttft is { } t ? Invariant($"{t:+0.0;-0.0} ms") : "not measured", ttft is { } z ? z <= 2 : null));

        var idle = IdleCpu.Where(i => i.Transport == transport && i.Role.StartsWith("silo", StringComparison.Ordinal)).ToArray();
        targets.Add(new TargetResult(Invariant($"idle silo CPU, one agent [{transport}]"), "<= 2% of a core",
            idle.Length > 0 ? string.Join(", ", idle.GroupBy(i => i.Cluster).Select(g => Invariant($"{g.Key} max {g.Max(i => i.PercentOfCore):0.0}%"))) : "not measured",
            idle.Length > 0 ? idle.Max(i => i.PercentOfCore) <= 2 : null));
    }

    public JsonObject ToJson()
    {
        var measurements = new JsonArray();
        foreach (var m in Measurements)
        {
            var r = m.Result;
            measurements.Add(new JsonObject
            {
                ["workload"] = m.Workload.Id,
                ["label"] = m.Workload.Label,
                ["path"] = m.Path,
                ["relay_transport"] = m.Transport,
                ["stream"] = m.Workload.Stream,
                ["tokens"] = m.Workload.Tokens,
                ["delay_ms_per_token"] = m.Workload.DelayMs,
                ["concurrency"] = m.Workload.Concurrency,
                ["set"] = m.Set,
                ["slices"] = r.Slices,
                ["measured_seconds"] = Round(r.Seconds, 3),
                ["requests_per_second"] = Round(r.RequestsPerSecond, 2),
                ["ratio_to_direct"] = Round(RatioToDirect(m), 4),
                ["ok"] = r.Ok,
                ["errors"] = r.Errors,
                ["error_kinds"] = new JsonObject(r.ErrorKinds.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value))),
                ["latency_ms"] = new JsonObject { ["p50"] = Round(r.LatencyP50Ms, 4), ["p99"] = Round(r.LatencyP99Ms, 4), ["mean"] = Round(r.LatencyMeanMs, 4) },
                ["added_p50_ms"] = Round(AddedP50(m), 4),
                ["ttft_ms"] = r.TtftP50Ms is null ? null : new JsonObject { ["p50"] = Round(r.TtftP50Ms, 4), ["p99"] = Round(r.TtftP99Ms, 4) },
                ["gap_ms"] = r.GapMeanMs is null ? null : new JsonObject { ["mean"] = Round(r.GapMeanMs, 4), ["p99"] = Round(r.GapP99Ms, 4) },
                ["events_per_stream"] = Round(r.EventsPerStream, 2),
                ["cpu_us_per_request"] = new JsonObject
                {
                    ["gateway"] = Round(m.GatewayMicrosPerRequest, 1),
                    ["agent"] = Round(m.AgentMicrosPerRequest, 1),
                    ["upstream"] = Round(m.UpstreamMicrosPerRequest, 1),
                    ["load_generator"] = Round(m.LoadMicrosPerRequest, 1),
                },
                ["cpu_seconds"] = new JsonObject(m.Window.CpuSeconds.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)Round(c.Value, 3)))),
                ["peak_rss_kb"] = new JsonObject(m.Window.PeakRssKb.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value))),
                ["window_seconds"] = Round(m.Window.Seconds, 3),
                ["machine_busy_percent_of_core"] = Round(m.Window.MachineBusyPercent, 1),
                ["external_busy_percent_of_core"] = Round(m.Window.ExternalPercent, 1),
                ["load_average"] = m.Window.LoadAverage,
            });
        }

        return new JsonObject
        {
            ["machine"] = new JsonObject
            {
                ["nproc"] = Machine.Cores,
                ["cpu_model"] = Machine.CpuModel,
                ["dotnet_runtime"] = Machine.Runtime,
                ["dotnet_sdk"] = Machine.Sdk,
                ["kernel"] = Machine.Kernel,
                ["memory_mib"] = Machine.MemoryMiB,
                ["load_average_at_start"] = Machine.LoadAverageAtStart,
                ["commit"] = Machine.Commit,
            },
            ["settings"] = new JsonObject
            {
                ["duration_seconds"] = settings.Duration.TotalSeconds,
                ["warmup_seconds"] = settings.Warmup.TotalSeconds,
                ["quick"] = settings.Quick,
                ["capacity_streams"] = settings.CapacityStreams,
                ["capacity_agents"] = settings.CapacityAgents,
                ["cross_silo_streams"] = settings.CrossSiloStreams,
            },
            ["measurements"] = measurements,
            ["limits_cost"] = LimitsCost.From(this) is not { } limits ? null : new JsonObject
            {
                ["limits"] = LimitsConfig.Limits,
                ["throughput_percent"] = Round(limits.Throughput * 100, 2),
                ["added_p50_ms"] = Round(limits.AddedP50Ms, 4),
                ["added_p99_ms"] = Round(limits.AddedP99Ms, 4),
            },
            ["routing"] = RoutingJson(),
            ["many_agents"] = ManyAgents is not { } many ? null : new JsonObject
            {
                ["agents"] = many.Agents,
                ["registration_seconds"] = Round(many.RegistrationSeconds, 3),
                ["silo_rss_before_kb"] = many.SiloRssBeforeKb,
                ["silo_rss_after_kb"] = many.SiloRssAfterKb,
                ["kb_per_agent"] = Round(many.KbPerAgent, 2),
                ["silo_idle_cpu_percent_of_core"] = Round(many.SiloIdleCpuPercent, 2),
                ["agents_process_rss_kb"] = many.AgentsProcessRssKb,
                ["client_count_at_end"] = many.ClientCountAtEnd,
            },
            ["idle_cpu"] = new JsonArray([.. IdleCpu.Select(i => (JsonNode)new JsonObject
            {
                ["relay_transport"] = i.Transport,
                ["cluster"] = i.Cluster,
                ["process"] = i.Role,
                ["percent_of_core"] = Round(i.PercentOfCore, 2),
                ["seconds"] = Round(i.Seconds, 1),
            })]),
            ["idle_many_agents"] = IdleAgentsJson(),
            ["four_silos"] = FourSilosJson(),
            ["idle_rss_kb"] = new JsonObject(Idle.Select(i => KeyValuePair.Create(i.Key, (JsonNode?)i.Value))),
            ["agent_idle_is_native_aot"] = AgentIdleIsAot,
            ["targets"] = new JsonArray([.. Targets().Select(t => (JsonNode)new JsonObject
            {
                ["name"] = t.Name,
                ["goal"] = t.Goal,
                ["measured"] = t.Measured,
                ["met"] = t.Met,
            })]),
            ["failure"] = Failure,
            ["total_seconds"] = Round(TotalSeconds, 1),
        };
    }

    private static double? Round(double? value, int digits) =>
        value is { } v && double.IsFinite(v) ? Math.Round(v, digits) : null;

    private static string F(double? value, string format) =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Row(string[] cells, int[] widths)
    {
        var parts = new string[cells.Length];
        for (var i = 0; i < cells.Length; i++)
        {
            parts[i] = widths[i] < 0 ? cells[i].PadRight(-widths[i]) : cells[i].PadLeft(widths[i]);
        }

        return string.Join("  ", parts).TrimEnd();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
