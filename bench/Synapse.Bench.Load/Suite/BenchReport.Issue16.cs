using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Synapse.Bench.Load.Suite;

/// <summary>A silo idle with many agents connected (issue 16): its CPU over the idle window, and its RSS growth per agent.</summary>
internal sealed record IdleAgentsResult(string Transport, int Agents, int ClientCount, double SiloCpuPercent, double AgentsProcessCpuPercent, double Seconds, long SiloRssBeforeKb, long SiloRssAfterKb)
{
    public double KbPerAgent => (SiloRssAfterKb - SiloRssBeforeKb) / (double)Agents;
}

/// <summary>Issue 16's additions to the report: four silos behind a balancer, a silo idle with many agents, the targets table.</summary>
internal sealed partial class BenchReport
{
    public const string FourSilosPath = "four-silos";

    /// <summary>Which silos the four-silos phase's agents held their sockets to.</summary>
    public string? FourSilosLayout { get; set; }

    public List<IdleAgentsResult> IdleAgents { get; } = [];

    /// <summary>The four-silos rows, each with the one-silo row measured in alternation with it.</summary>
    private IEnumerable<(Measurement Four, Measurement? One)> FourSilosPairs() =>
        Measurements.Where(m => m.Path == FourSilosPath).Select(m => (m, Measurements.FirstOrDefault(o => o.Set == m.Set && o.Path == "one-silo")));

    private static double? AddedP99(Measurement m) =>
        m.Baseline is { } direct ? m.Result.LatencyP99Ms - direct.Result.LatencyP99Ms : null;

    private static double? MicrosPerRequest(Measurement m, string role) =>
        m.Window.CpuSeconds.TryGetValue(role, out var seconds) && m.Result.Ok > 0 ? seconds * 1e6 / m.Result.Ok : null;

    private void AppendFourSilos(StringBuilder text)
    {
        var pairs = FourSilosPairs().ToArray();
        if (pairs.Length == 0)
        {
            return;
        }

        text.AppendLine();
        text.AppendLine("Four silos behind a round-robin TCP balancer (the bench's own, in its own process), callers and agents through it, beside one silo with one agent; both in alternation with direct");
        text.AppendLine($"  agent sockets: {FourSilosLayout ?? "?"}");
        foreach (var (four, one) in pairs)
        {
            foreach (var m in new[] { one, four }.OfType<Measurement>())
            {
                var line = Invariant($"  {m.Workload.Label,-28} {m.Path,-10} {m.Result.RequestsPerSecond,9:0.0} req/s  ratio {F(RatioToDirect(m), "0.00")}  +p50 {F(AddedP50(m), "+0.000;-0.000")} ms  +p99 {F(AddedP99(m), "+0.00;-0.00")} ms  gw {F(m.GatewayMicrosPerRequest, "0")} us/req  errors {m.Result.Errors}");
                if (m.Path == FourSilosPath)
                {
                    var silos = m.Window.CpuSeconds.Where(c => c.Key.StartsWith("silo-", StringComparison.Ordinal)).OrderBy(c => c.Key, StringComparer.Ordinal)
                        .Select(c => Invariant($"{c.Key} {c.Value / m.Window.Seconds * 100:0}%"));
                    line += Invariant($"  balancer {F(MicrosPerRequest(m, "balancer"), "0")} us/req; CPU {string.Join(", ", silos)} of a core");
                }

                text.AppendLine(line);
            }

            if (one is { Result.RequestsPerSecond: > 0 })
            {
                text.AppendLine(Invariant($"  {string.Empty,-28} four silos / one silo: x{four.Result.RequestsPerSecond / one.Result.RequestsPerSecond:0.00} req/s"));
            }
        }
    }

    private void AppendIdleAgents(StringBuilder text)
    {
        if (IdleAgents.Count == 0)
        {
            return;
        }

        text.AppendLine();
        text.AppendLine("Idle CPU, one silo with many agents connected, no traffic (utime + stime from /proc, % of one core):");
        foreach (var i in IdleAgents)
        {
            text.AppendLine(Invariant($"  relay {i.Transport}, {i.Agents} agents (client_count {i.ClientCount}): silo {i.SiloCpuPercent:0.0}%, the agents' process {i.AgentsProcessCpuPercent:0.0}% over {i.Seconds:0} s; silo RSS {BenchSuite.Kb(i.SiloRssBeforeKb)} -> {BenchSuite.Kb(i.SiloRssAfterKb)}, {i.KbPerAgent:0.0} KiB per agent"));
        }
    }

    /// <summary>Every target: figure, measured, target, met or missed (n/a when the run did not measure it).</summary>
    private void AppendTargets(StringBuilder text)
    {
        var targets = Targets();
        string[] header = ["figure", "measured", "target", "met?"];
        var rows = targets.Select(t => new[] { t.Name, t.Measured, t.Goal, t.Met switch { true => "met", false => "missed", null => "n/a" } }).ToArray();
        var widths = Enumerable.Range(0, header.Length).Select(c => -rows.Select(r => r[c].Length).Append(header[c].Length).Max()).ToArray();
        text.AppendLine("Targets");
        text.AppendLine(Row(header, widths));
        text.AppendLine(new string('-', widths.Sum(Math.Abs) + (widths.Length - 1) * 2));
        foreach (var row in rows)
        {
            text.AppendLine(Row(row, widths));
        }
    }

    /// <summary>Issue 16: a silo's idle CPU with many agents connected, at most 10% of a core (for 1,000 agents).</summary>
    private void IdleAgentsTarget(List<TargetResult> targets, string transport)
    {
        var runs = IdleAgents.Where(i => i.Transport == transport).ToArray();
        var agents = runs.Length > 0 ? runs[0].Agents : settings.CapacityAgents;
        targets.Add(new TargetResult(Invariant($"idle silo CPU, {agents} idle agents [{transport}]"), "<= 10% of a core",
            runs.Length > 0 ? string.Join(", ", runs.Select(r => Invariant($"{r.SiloCpuPercent:0.0}%"))) : "not measured",
            runs.Length > 0 ? runs.Max(r => r.SiloCpuPercent) <= 10 : null));
    }

    /// <summary>Issue 16: silo memory per idle agent, at most 40 KiB (the agents phase; else the idle phase's many agents).</summary>
    private TargetResult MemoryPerAgentTarget()
    {
        const string name = "silo memory per idle agent connection";
        const string goal = "<= 40 KiB";
        var settled = IdleAgents.Count > 0 ? Invariant($" (after {IdleAgents[0].Seconds + settings.IdleSettle.TotalSeconds:0} s idle: {IdleAgents[0].KbPerAgent:0.0} KiB)") : string.Empty;
        return ManyAgents is { } many ? new TargetResult(name, goal, Invariant($"{many.KbPerAgent:0.0} KiB") + settled, many.KbPerAgent <= 40)
            : IdleAgents.Count > 0 ? new TargetResult(name, goal, Invariant($"{IdleAgents[0].KbPerAgent:0.0} KiB (idle phase)"), IdleAgents[0].KbPerAgent <= 40)
            : new TargetResult(name, goal, "not measured", null);
    }

    private JsonNode? FourSilosJson()
    {
        var pairs = FourSilosPairs().ToArray();
        return pairs.Length == 0 ? null : new JsonObject
        {
            ["agent_sockets"] = FourSilosLayout,
            ["workloads"] = new JsonArray([.. pairs.Select(p => (JsonNode)new JsonObject
            {
                ["workload"] = p.Four.Workload.Id,
                ["four_silos"] = PathJson(p.Four),
                ["one_silo"] = p.One is null ? null : PathJson(p.One),
                ["four_over_one"] = p.One is { Result.RequestsPerSecond: > 0 } one ? Round(p.Four.Result.RequestsPerSecond / one.Result.RequestsPerSecond, 4) : null,
                ["balancer_cpu_us_per_request"] = Round(MicrosPerRequest(p.Four, "balancer"), 1),
            })]),
        };

        static JsonObject PathJson(Measurement m) => new()
        {
            ["requests_per_second"] = Round(m.Result.RequestsPerSecond, 2),
            ["ratio_to_direct"] = Round(RatioToDirect(m), 4),
            ["added_p50_ms"] = Round(AddedP50(m), 4),
            ["added_p99_ms"] = Round(AddedP99(m), 4),
            ["errors"] = m.Result.Errors,
        };
    }

    private JsonNode IdleAgentsJson() => new JsonArray([.. IdleAgents.Select(i => (JsonNode)new JsonObject
    {
        ["relay_transport"] = i.Transport,
        ["agents"] = i.Agents,
        ["client_count"] = i.ClientCount,
        ["silo_percent_of_core"] = Round(i.SiloCpuPercent, 2),
        ["agents_process_percent_of_core"] = Round(i.AgentsProcessCpuPercent, 2),
        ["seconds"] = Round(i.Seconds, 1),
        ["silo_rss_before_kb"] = i.SiloRssBeforeKb,
        ["silo_rss_after_kb"] = i.SiloRssAfterKb,
        ["kb_per_agent"] = Round(i.KbPerAgent, 2),
    })]);
}
