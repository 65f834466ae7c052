using System.Globalization;
using System.Text;
using Synapse.Bench.Load.Suite;

namespace Synapse.Bench.Load.Soak;

/// <summary>The soak's verdict and bench/results/soak.md: growth per metric from minute 5 to the end, and the calls.</summary>
internal sealed record SoakSummary(string Markdown, bool Met)
{
    /// <summary>The metrics checked for growth, with how they are shown.</summary>
    private static readonly (string Key, string Label, Func<double, string> Format, bool Checked)[] Metrics =
    [
        ("rss", "RSS", v => BenchSuite.Kb((long)v), true),
        ("gc_heap", "GC heap (after last GC)", v => Invariant($"{v / 1048576:0.0} MiB"), true),
        ("threads", "threads", v => Invariant($"{v:0.0}"), true),
        ("handles", "open handles (fds)", v => Invariant($"{v:0.0}"), true),
        ("gc_committed", "GC committed (not checked)", v => Invariant($"{v / 1048576:0.0} MiB"), false),
    ];

    public static SoakSummary Write(SoakSettings settings, Machine machine, IReadOnlyList<SoakCallerKind> mix, IReadOnlyList<SoakSample> samples,
        IReadOnlyList<(double At, string What, bool Setup)> events, SoakCallers callers, int hungAtEnd, TimeSpan ran, TimeSpan? restartedAt)
    {
        var text = new StringBuilder();
        var hung = callers.Hung + hungAtEnd;
        var baselineFrom = settings.BaselineAt.TotalSeconds;
        var baselineTo = baselineFrom + settings.AverageOver.TotalSeconds;
        var endTo = ran.TotalSeconds + 1;
        var endFrom = ran.TotalSeconds - settings.AverageOver.TotalSeconds;

        text.AppendLine(Invariant($"# Soak: {settings.Minutes:0.#} minutes, two silos, mixed load with churn"));
        text.AppendLine();
        text.AppendLine(Invariant($"Run {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC on {machine.Summary}. Written by `bash bench/soak.sh --minutes {settings.Minutes:0.#}`; the curve is [soak.csv](soak.csv) (every silo every {settings.SampleInterval.TotalSeconds:0} s)."));
        text.AppendLine();
        text.AppendLine("Two silos behind the benchmark's round-robin TCP balancer; callers and agents reach them only through it. Load: " +
            string.Join("; ", mix.Select(k => Invariant($"{k.Callers} {k.Name} callers ({(k.Stream ? "stream" : "chat")}, {k.Tokens} tokens{(k.DelayMs > 0 ? $" at {k.DelayMs} ms" : string.Empty)}, {k.WalkAway:0%} walk away mid-call)"))) + ". " +
            Invariant($"Churn: an agent process restarted every {settings.ChurnEvery.TotalSeconds:0} s (SIGTERM and SIGKILL in turn; three agents with 2 sockets each and one process of 20 agents), ") +
            Invariant($"silo B restarted at {SoakRun.Clock(settings.RestartAt)} (SIGTERM, then started again on the same ports). A call still running {settings.HungAfter.TotalSeconds:0} s after its expected end is hung."));
        text.AppendLine();

        text.AppendLine(Invariant($"Growth on silo A, the silo that ran the whole time (silo B was restarted, so its growth is not checked): the mean of the samples from {SoakRun.Clock(settings.BaselineAt)} to {SoakRun.Clock(TimeSpan.FromSeconds(baselineTo))} against the mean of the last {settings.AverageOver.TotalSeconds:0} s; target: under {settings.MaxGrowth:0%} each, and 0 hung calls."));
        text.AppendLine();
        text.AppendLine("| silo | metric | at the baseline | at the end | growth | target | |");
        text.AppendLine("|---|---|---:|---:|---:|---|---|");
        var met = hung == 0;
        foreach (var silo in samples.Select(s => s.Silo).Distinct().Order(StringComparer.Ordinal))
        {
            var ofSilo = samples.Where(s => s.Silo == silo).ToArray();
            var checkedSilo = silo == "silo-a";
            // Silo B: its life after the restart, from its first samples to its last.
            var (from, to) = checkedSilo || restartedAt is not { } restart
                ? (baselineFrom, baselineTo)
                : (restart.TotalSeconds + settings.SampleInterval.TotalSeconds * 3, restart.TotalSeconds + settings.SampleInterval.TotalSeconds * 3 + settings.AverageOver.TotalSeconds);
            foreach (var (key, label, format, isChecked) in Metrics)
            {
                var baseline = Mean(ofSilo, key, from, to);
                var end = Mean(ofSilo, key, endFrom, endTo);
                var growth = baseline is > 0 && end is { } e ? (e - baseline.Value) / baseline.Value : (double?)null;
                var verdict = !checkedSilo || !isChecked ? "not checked"
                    : growth is { } g ? (g < settings.MaxGrowth ? "met" : "missed") : "not measured";
                if (checkedSilo && isChecked && verdict != "met")
                {
                    met = false;
                }

                var where = checkedSilo ? silo + " (whole run)" : silo + (restartedAt is { } r ? $" (since its restart at {SoakRun.Clock(r)}; from {SoakRun.Clock(TimeSpan.FromSeconds(from))})" : string.Empty);
                text.AppendLine(Invariant($"| {where} | {label} | {(baseline is { } bv ? format(bv) : "-")} | {(end is { } ev ? format(ev) : "-")} | {(growth is { } gv ? $"{gv:+0.0%;-0.0%}" : "-")} | {(checkedSilo && isChecked ? $"< {settings.MaxGrowth:0%}" : "-")} | {verdict} |"));
            }
        }

        text.AppendLine();
        text.AppendLine("| calls | count |");
        text.AppendLine("|---|---:|");
        text.AppendLine(Invariant($"| answered in full | {callers.Ok} |"));
        text.AppendLine(Invariant($"| walked away (the caller left mid-call, on purpose) | {callers.WalkedAway} |"));
        text.AppendLine(Invariant($"| errors | {callers.Failed} |"));
        text.AppendLine(Invariant($"| hung (target 0) | {hung} |"));
        foreach (var (kind, count) in callers.Errors)
        {
            text.AppendLine(Invariant($"| error: {kind} | {count} |"));
        }

        text.AppendLine();
        text.AppendLine(Invariant($"Verdict: **{(met ? "met" : "missed")}** (growth under {settings.MaxGrowth:0%} on silo A for RSS, GC heap, threads and handles; {hung} hung calls)."));
        text.AppendLine();
        text.AppendLine("What happened:");
        text.AppendLine();
        foreach (var (at, what, setup) in events)
        {
            text.AppendLine($"- {(setup ? "setup" : SoakRun.Clock(TimeSpan.FromSeconds(at)))} {what}");
        }

        return new SoakSummary(text.ToString(), met);
    }

    private static double? Mean(IEnumerable<SoakSample> samples, string metric, double from, double to)
    {
        var values = samples.Where(s => s.ElapsedSeconds >= from && s.ElapsedSeconds < to).Select(s => s.Metric(metric)).OfType<double>().ToArray();
        return values.Length > 0 ? values.Average() : null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
