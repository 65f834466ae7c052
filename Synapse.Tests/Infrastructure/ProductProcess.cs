using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Synapse.Tests.Infrastructure;

/// <summary>
/// One of the product's programs (gateway or agent) as a real child process, started from the build output next
/// to the tests, with its output captured.
/// </summary>
public sealed partial class ProductProcess : IAsyncDisposable
{
    public const string Gateway = "Synapse.Silo";
    public const string Agent = "Synapse.Client";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ProductProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// The program's own build output (its deps.json resolves its own dependencies, which the test folder, built
    /// against the ASP.NET Core shared framework, does not carry).
    /// </summary>
    public static string PathOf(string project)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Synapse.sln")))
        {
            root = root.Parent;
        }

        var assembly = project == Agent ? "synapse-client.dll" : project + ".dll";
        return Path.Combine(root!.FullName, project, "bin", configuration, "net10.0", assembly);
    }

    public static ProductProcess Start(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var path = PathOf(program);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(path)!,
        };
        info.ArgumentList.Add(path);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return new ProductProcess(Process.Start(info)!);
    }

    /// <summary>A bash command line, as a user would type it.</summary>
    public static ProductProcess StartShell(string command, IReadOnlyDictionary<string, string> environment, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return new ProductProcess(Process.Start(info)!);
    }

    /// <summary>Runs a program to completion and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] args)
    {
        await using var process = Start(program, args);
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (code, process.Output);
    }

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Terminate() => Signal(15);

    /// <summary>kill -9: no cleanup, sockets reset by the kernel.</summary>
    public void KillHard() => Signal(9);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public Task WaitForOutputAsync(string text, TimeSpan timeout) =>
        Eventually.UntilAsync(() => Output.Contains(text, StringComparison.Ordinal) || _process.HasExited, timeout, $"the process printed '{text}'");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
            }
        }

        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
