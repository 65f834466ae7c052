using System.Diagnostics;

namespace Synapse.Bench.Load.Suite;

/// <summary>CPU and memory of each process during the measured window of a load run, and of the machine.</summary>
internal sealed record WindowSample
{
    public double Seconds { get; init; }

    /// <summary>CPU seconds (user + system) per role, including "load" for the load generator itself.</summary>
    public IReadOnlyDictionary<string, double> CpuSeconds { get; init; } = new Dictionary<string, double>();

    public IReadOnlyDictionary<string, long> PeakRssKb { get; init; } = new Dictionary<string, long>();

    /// <summary>Busy CPU seconds of the whole machine (all cores) during the window.</summary>
    public double MachineBusySeconds { get; init; }

    /// <summary>Busy CPU seconds not spent by the benchmark's processes (other work on a shared machine).</summary>
    public double ExternalSeconds { get; init; }

    /// <summary>Busy CPU of the whole machine, in percent of one core (200 = both cores of a 2-core box).</summary>
    public double MachineBusyPercent => Seconds > 0 ? MachineBusySeconds / Seconds * 100 : 0;

    /// <summary>Busy CPU not spent by the benchmark's processes, in percent of one core.</summary>
    public double ExternalPercent => Seconds > 0 ? ExternalSeconds / Seconds * 100 : 0;

    public string LoadAverage { get; init; } = string.Empty;

    /// <summary>The slices of one alternating measurement, as one window.</summary>
    public static WindowSample Merge(IReadOnlyList<WindowSample> slices) => new()
    {
        Seconds = slices.Sum(s => s.Seconds),
        CpuSeconds = slices.SelectMany(s => s.CpuSeconds).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Sum(p => p.Value)),
        PeakRssKb = slices.SelectMany(s => s.PeakRssKb).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Max(p => p.Value)),
        MachineBusySeconds = slices.Sum(s => s.MachineBusySeconds),
        ExternalSeconds = slices.Sum(s => s.ExternalSeconds),
        LoadAverage = slices.Count > 0 ? slices[0].LoadAverage : string.Empty,
    };

    /// <summary>
    /// Waits out the warm-up, then samples CPU at both ends of the window and RSS every 250 ms within it. Runs on a
    /// thread of its own with plain sleeps and a deadline, so it ends on time whatever the load does to the thread
    /// pool or the timers of this process.
    /// </summary>
    public static Task<WindowSample> CaptureAsync(IReadOnlyDictionary<string, ChildProcess> processes, TimeSpan warmup, TimeSpan duration, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Capture(processes, warmup, duration, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static WindowSample Capture(IReadOnlyDictionary<string, ChildProcess> processes, TimeSpan warmup, TimeSpan duration, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        SleepUntil(started, warmup, cancellationToken);
        var self = Environment.ProcessId;
        var cpuBefore = processes.ToDictionary(p => p.Key, p => p.Value.CpuTicks ?? 0);
        var selfBefore = ProcFs.CpuTicks(self) ?? 0;
        var machineBefore = ProcFs.MachineTicks();
        var load = ProcFs.LoadAverage();
        var peak = processes.ToDictionary(p => p.Key, _ => 0L);
        var windowStart = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(windowStart) < duration)
        {
            foreach (var (role, process) in processes)
            {
                peak[role] = Math.Max(peak[role], process.RssKb ?? 0);
            }

            var left = duration - Stopwatch.GetElapsedTime(windowStart);
            SleepUntil(Stopwatch.GetTimestamp(), left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250), cancellationToken);
        }

        var seconds = Stopwatch.GetElapsedTime(windowStart).TotalSeconds;
        var machineAfter = ProcFs.MachineTicks();
        double hz = ProcFs.ClockTicks;
        var cpu = processes.ToDictionary(p => p.Key, p => ((p.Value.CpuTicks ?? cpuBefore[p.Key]) - cpuBefore[p.Key]) / hz);
        cpu["load"] = ((ProcFs.CpuTicks(self) ?? selfBefore) - selfBefore) / hz;
        var machineBusy = (machineAfter.Busy - machineBefore.Busy) / hz;
        return new WindowSample
        {
            Seconds = seconds,
            CpuSeconds = cpu,
            PeakRssKb = peak,
            MachineBusySeconds = machineBusy,
            ExternalSeconds = Math.Max(0, machineBusy - cpu.Values.Sum()),
            LoadAverage = load,
        };
    }

    private static void SleepUntil(long from, TimeSpan span, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = span - Stopwatch.GetElapsedTime(from);
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            Thread.Sleep(left < TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50));
        }
    }
}
