using System.Diagnostics;
using Synapse.Silo.Install;

namespace Synapse.Tests.Install;

/// <summary>The script <c>/run</c> answers when it cannot install an agent, run by a real bash as <c>curl … | bash -s --</c> would.</summary>
[Trait("Category", "Process")]
public sealed class FailureScriptTests
{
    [Fact]
    public async Task Failure_PipedIntoBash_PrintsTheSentenceOnStderrAndExitsNonZero()
    {
        var script = InstallScript.Failure("this gateway has no agent binary to install; on the gateway machine, run make all.");

        var (code, stdout, stderr) = await PipeIntoBashAsync(script, "--upstream", "http://127.0.0.1:8000");

        Assert.Equal(InstallScript.FailureExitCode, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal("synapse: error: this gateway has no agent binary to install; on the gateway machine, run make all.\n", stderr);
    }

    [Theory]
    [InlineData("it's $(touch /tmp/synapse-pwned) `id` \"quoted\" $HOME \\ done")]
    [InlineData("'; exit 0; '")]
    public async Task Failure_SentenceWithShellCharacters_IsPrintedVerbatimNeverRun(string sentence)
    {
        var (code, _, stderr) = await PipeIntoBashAsync(InstallScript.Failure(sentence));

        Assert.Equal(InstallScript.FailureExitCode, code);
        Assert.Equal($"synapse: error: {sentence}\n", stderr);
    }

    internal static async Task<(int Code, string Stdout, string Stderr)> PipeIntoBashAsync(string script, params string[] args)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-s");
        info.ArgumentList.Add("--");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(script);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
