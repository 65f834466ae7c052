using System.Globalization;

namespace Synapse.Bench.Load.Suite;

/// <summary>Memory and CPU of processes, and of the whole machine, from Linux's /proc.</summary>
internal static class ProcFs
{
    private static readonly Lazy<int> LazyClockTicks = new(ReadClockTicks);

    /// <summary>Kernel clock ticks per second (the unit of utime/stime in /proc/pid/stat).</summary>
    public static int ClockTicks => LazyClockTicks.Value;

    /// <summary>Resident memory (VmRSS) in KiB, or null if the process is gone.</summary>
    public static long? RssKb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>User plus system CPU time the process used so far, in clock ticks; null if it is gone.</summary>
    public static long? CpuTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may contain spaces; count fields after it.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Busy and total clock ticks of all CPUs together since boot (from the first line of /proc/stat).</summary>
    public static (long Busy, long Total) MachineTicks()
    {
        using var reader = new StreamReader("/proc/stat");
        var parts = reader.ReadLine()!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long total = 0;
        // user nice system idle iowait irq softirq steal (guest time is already inside user).
        for (var i = 1; i < Math.Min(parts.Length, 9); i++)
        {
            total += long.Parse(parts[i], CultureInfo.InvariantCulture);
        }

        var idle = long.Parse(parts[4], CultureInfo.InvariantCulture) + long.Parse(parts[5], CultureInfo.InvariantCulture);
        return (total - idle, total);
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static int ReadClockTicks()
    {
        try
        {
            using var getconf = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("getconf", "CLK_TCK")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            var text = getconf.StandardOutput.ReadToEnd().Trim();
            getconf.WaitForExit();
            return int.TryParse(text, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 100;
        }
    }
}
