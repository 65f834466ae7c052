using Microsoft.Extensions.Logging;
using Synapse.Silo.Hosting;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hosting;

/// <summary>The start-up lines of a real gateway, for the ways it can be exposed and the binaries it can serve.</summary>
[Trait("Category", "EndToEnd")]
public sealed class StartupBannerGatewayTests : IDisposable
{
    private const string OpenWarning = "This gateway is open to the network";

    private readonly string _temp = Directory.CreateTempSubdirectory("synapse-banner-").FullName;

    [Fact]
    public async Task Banner_OpenGatewayOnAllInterfaces_WarnsOnceAndNamesWhatItServes()
    {
        var clients = Path.Combine(_temp, "clients");
        var binary = Path.Combine(clients, "linux-x64", "synapse-client");
        Directory.CreateDirectory(Path.GetDirectoryName(binary)!);
        await File.WriteAllTextAsync(binary, "#!/usr/bin/env bash\necho 0.1.0\n");
        await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Gateway:Host"] = "0.0.0.0",
            ["Synapse:Gateway:ClientBinary"] = clients,
        });

        var lines = Banner(gateway);

        var warning = Assert.Single(lines, l => l.Contains(OpenWarning, StringComparison.Ordinal));
        Assert.StartsWith("Warning ", warning, StringComparison.Ordinal);
        Assert.Contains("listens on 0.0.0.0 without an API key", warning, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.EndsWith($"Agent binary for linux-x64: {binary}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Auth: open, API callers need no key", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Status page: http://localhost:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Banner_KeyedGatewayWithoutBinaries_DoesNotWarnAndSaysHowToGetAnAgent()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_temp, "empty")).FullName;
        await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Gateway:Host"] = "0.0.0.0",
            ["Synapse:Gateway:ApiAuthKey"] = "banner-test-key",
            ["Synapse:Gateway:WsAuthKey"] = "banner-ws-key",
            ["Synapse:Gateway:ClientBinary"] = empty,
        });

        var lines = Banner(gateway);

        Assert.DoesNotContain(lines, l => l.Contains(OpenWarning, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Auth: API callers need the API key; agents need the WebSocket key", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("No agent binary to serve, so /run cannot install agents yet: point --client-binary at", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("banner-test-key", StringComparison.Ordinal) || l.Contains("banner-ws-key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Banner_OpenGatewayOnLoopback_DoesNotWarn()
    {
        await using var gateway = await TestGateway.StartAsync();

        var lines = Banner(gateway);

        Assert.Contains(lines, l => l.Contains("Cluster: a single silo, membership in memory", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(OpenWarning, StringComparison.Ordinal));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_temp, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The lines the gateway writes once it listens, as <c>GatewayHost.RunAsync</c> has it write them.</summary>
    private static IReadOnlyList<string> Banner(TestGateway gateway)
    {
        var log = new TestLog();
        using var factory = LoggerFactory.Create(b => b.AddProvider(log).SetMinimumLevel(LogLevel.Information));
        StartupBanner.Write(gateway.Services, gateway.BaseUrl, factory.CreateLogger("Synapse.Gateway"));
        return log.Lines.ToList();
    }
}
