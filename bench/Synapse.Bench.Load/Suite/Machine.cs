using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Synapse.Bench.Load.Suite;

/// <summary>The machine a run happened on: results from different machines are not comparable, ratios less so.</summary>
internal sealed record Machine(int Cores, string CpuModel, string Runtime, string Sdk, string Kernel, long MemoryMiB, string LoadAverageAtStart, string Commit)
{
    public string Summary => $"{Cores} cores ({CpuModel}), {Runtime}, load average {LoadAverageAtStart}, commit {Commit}";

    public static Machine Describe()
    {
        var cpu = ReadField("/proc/cpuinfo", "model name") ?? "unknown";
        var memory = ReadField("/proc/meminfo", "MemTotal") is { } total && long.TryParse(total.Split(' ')[0], out var kb) ? kb / 1024 : 0;
        string kernel;
        try
        {
            kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            kernel = RuntimeInformation.OSDescription;
        }

        var commit = Run("git", "-C", SuiteSettings.FindRoot(), "rev-parse", "--short", "HEAD") ?? "unknown";
        if (Run("git", "-C", SuiteSettings.FindRoot(), "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results") is { Length: > 0 })
        {
            commit += "+changes";
        }

        return new Machine(Environment.ProcessorCount, cpu, RuntimeInformation.FrameworkDescription, Run("dotnet", "--version") ?? "unknown", kernel, memory,
            ProcFs.LoadAverage(), commit);
    }

    private static string? ReadField(string file, string name)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith(name, StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is var colon and > 0)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    private static string? Run(string program, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
