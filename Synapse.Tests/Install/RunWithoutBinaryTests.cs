using System.Net;
using Synapse.Silo.Install;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Install;

/// <summary>
/// A gateway whose <c>--client-binary</c> holds nothing: <c>/run</c> still speaks bash, so the one-liner prints what is
/// missing and how to fix it, and fails, however it is fetched.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Trait("Category", "Process")]
public sealed class RunWithoutBinaryTests : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("synapse-nobinary-").FullName;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Gateway:ClientBinary"] = Directory.CreateDirectory(Path.Combine(_home, "empty")).FullName,
        });

    [Theory]
    [InlineData("curl -fsSL")]
    [InlineData("curl")]
    public async Task OneLiner_NoAgentBinary_PrintsWhatIsMissingAndHowToFixItThenFails(string fetch)
    {
        await using var run = ProductProcess.StartShell(
            $"{fetch} '{_gateway.BaseUrl}/run' | bash -s -- --upstream http://127.0.0.1:8000 --ws-auth-key 'k'",
            new Dictionary<string, string> { ["HOME"] = _home },
            _home);
        var code = await run.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(InstallScript.FailureExitCode, code);
        Assert.Contains("synapse: error: this gateway has no agent binary to install; on the gateway machine, point --client-binary at", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("command not found", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("syntax error", run.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_home, ".local")), "nothing was installed");
        Assert.Contains(_gateway.Log.Lines, l => l.Contains("/run was asked for an agent but this gateway has no agent binary", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_NoAgentBinary_Answers200WithAShellScript()
    {
        using var client = _gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("/run", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/x-shellscript", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("#!/usr/bin/env bash\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetClient_NoAgentBinary_KeepsItsJsonError()
    {
        using var client = _gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("/getclient?os=linux&arch=x64", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("client_not_found", await Json.ReadErrorCodeAsync(response));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        try
        {
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
