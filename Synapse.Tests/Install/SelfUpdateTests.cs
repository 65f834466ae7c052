using System.Globalization;
using Synapse.Protocol;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Install;

/// <summary>
/// Version compatibility, with the published agent binary against gateways that want another protocol: one that
/// accepts only the protocol after this build's, as a gateway upgraded past this agent would.
/// </summary>
[Collection(InstallCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Trait("Category", "Process")]
public sealed class SelfUpdateTests(InstallFixture fixture) : IDisposable
{
    private static readonly string Newer = (ProtocolVersion.Current + 1).ToString(CultureInfo.InvariantCulture);

    private readonly string _home = Directory.CreateTempSubdirectory("synapse-update-").FullName;

    [Fact]
    public async Task AgentInstalledByRun_GatewayWantsAnotherProtocol_ReplacesItselfAndRestartsWithTheSameArguments()
    {
        var served = Path.Combine(_home, "served", "linux-x64");
        Directory.CreateDirectory(served);
        var stub = Path.Combine(served, "synapse-client");
        var marker = Path.Combine(_home, "restarted-with");
        await File.WriteAllTextAsync(stub, """
            #!/usr/bin/env bash
            case "$1" in
              --version) echo 9.9.9 ;;
              --protocol-version) echo NEWER ;;
              *) printf '%s\n' "$@" > "$SYNAPSE_TEST_MARKER"; exec sleep 60 ;;
            esac
            """.Replace("\r", string.Empty, StringComparison.Ordinal).Replace("NEWER", Newer, StringComparison.Ordinal));
        File.SetUnixFileMode(stub, (UnixFileMode)Convert.ToInt32("755", 8));
        await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Gateway:ClientBinary"] = Path.Combine(_home, "served"),
            ["Synapse:Agents:MinProtocolVersion"] = Newer,
            ["Synapse:Agents:MaxProtocolVersion"] = Newer,
        });
        var installed = Install(fixture.Agent.Binary);
        string[] arguments = ["--server-url", gateway.WsUrl.ToString(), "--upstream", "http://127.0.0.1:9/v1", "--name", "updating", "--self-update"];

        await using var agent = ProductProcess.StartShell(
            $"exec '{installed}' " + string.Join(' ', arguments.Select(a => $"'{a}'")),
            new Dictionary<string, string> { ["HOME"] = _home, ["SYNAPSE_TEST_MARKER"] = marker });
        await Eventually.UntilAsync(() => File.Exists(marker) && new FileInfo(marker).Length > 0, TimeSpan.FromSeconds(30), "the updated agent started");

        Assert.Equal(arguments, (await File.ReadAllLinesAsync(marker)).Where(l => l.Length > 0));
        Assert.Equal(await File.ReadAllTextAsync(stub), await File.ReadAllTextAsync(installed));
        Assert.False(agent.HasExited, "the update replaced the process image (exec) and the new agent runs on");
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(installed)!, ".synapse-client.*"));
    }

    [Fact]
    public async Task AgentNotInstalledByRun_GatewayWantsAnotherProtocol_ExitsSayingHowToReinstall()
    {
        await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Gateway:ClientBinary"] = fixture.Agent.Folder,
            ["Synapse:Agents:MinProtocolVersion"] = Newer,
            ["Synapse:Agents:MaxProtocolVersion"] = Newer,
        });
        var installed = Install(fixture.Agent.Binary);

        await using var agent = ProductProcess.StartShell(
            $"exec '{installed}' --server-url '{gateway.WsUrl}' --upstream http://127.0.0.1:9",
            new Dictionary<string, string> { ["HOME"] = _home });
        var exitCode = await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3, exitCode);
        Assert.Contains($"accepts agent protocol {Newer}, but the agent (version {ProtocolVersion.Product}) speaks protocol {ProtocolVersion.Current}", agent.Output, StringComparison.Ordinal);
        Assert.Contains($"curl -fsSL {gateway.BaseUrl}/run | bash", agent.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string Install(string binary)
    {
        var target = Path.Combine(_home, ".local", "bin", "synapse-client");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(binary, target, overwrite: true);
        File.SetUnixFileMode(target, (UnixFileMode)Convert.ToInt32("755", 8));
        return target;
    }
}
