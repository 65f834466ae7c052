using System.Diagnostics;

namespace Synapse.Bench.Load.Suite;

/// <summary>
/// A program the benchmark started: its output goes to a log file (the shell <c>exec</c>s it, so the pid is the
/// program's own), its pid is appended to the run's pid file so <c>run.sh</c> can kill it even if this process dies.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    private ChildProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
    }

    public string Name { get; }

    public string LogPath { get; }

    public int Pid => _process.Id;

    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    public long? RssKb => ProcFs.RssKb(Pid);

    public long? CpuTicks => ProcFs.CpuTicks(Pid);

    public static ChildProcess Start(string name, string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string logDirectory, string? pidFile)
    {
        Directory.CreateDirectory(logDirectory);
        var log = Path.Combine(logDirectory, name + ".log");
        var info = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = logDirectory,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >\"$BENCH_CHILD_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add(program);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["BENCH_CHILD_LOG"] = log;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
        if (pidFile is not null)
        {
            File.AppendAllText(pidFile, $"{process.Id}\n");
        }

        return new ChildProcess(name, process, log);
    }

    /// <summary>The last lines of its output, for error messages.</summary>
    public string Tail(int lines = 15)
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogPath).TakeLast(lines));
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>Kills it (SIGKILL: the benchmark does not measure shutdown) and waits for it to be gone.</summary>
    public async Task StopAsync()
    {
        if (HasExited)
        {
            return;
        }

        try
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (InvalidOperationException)
        {
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
