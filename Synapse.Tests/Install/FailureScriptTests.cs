using Synapse.Silo.Install;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Install;

/// <summary>The script <c>/run</c> answers when it cannot install an agent, run by a real bash as <c>curl … | bash -s --</c> would.</summary>
[Trait("Category", "Process")]
public sealed class FailureScriptTests
{
    [Fact]
    public async Task Failure_PipedIntoBash_PrintsTheSentenceOnStderrAndExitsNonZero()
    {
        var script = InstallScript.Failure("this gateway has no agent binary to install; on the gateway machine, run make all.");

        var (code, stdout, stderr) = await PipedBash.RunAsync(script, "--upstream", "http://127.0.0.1:8000");

        Assert.Equal(InstallScript.FailureExitCode, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal("synapse: error: this gateway has no agent binary to install; on the gateway machine, run make all.\n", stderr);
    }

    [Theory]
    [InlineData("it's $(touch /tmp/synapse-pwned) `id` \"quoted\" $HOME \\ done")]
    [InlineData("'; exit 0; '")]
    public async Task Failure_SentenceWithShellCharacters_IsPrintedVerbatimNeverRun(string sentence)
    {
        var (code, _, stderr) = await PipedBash.RunAsync(InstallScript.Failure(sentence));

        Assert.Equal(InstallScript.FailureExitCode, code);
        Assert.Equal($"synapse: error: {sentence}\n", stderr);
    }
}
