using System.Net;
using System.Net.Sockets;
using System.Text;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Install;

/// <summary>The seed's one-liner, for real: curl | bash against a gateway on loopback, into a fresh HOME.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(InstallCollection.Name)]
[Trait("Category", "Process")]
public sealed class InstallScriptTests(InstallFixture fixture) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("synapse-home-").FullName;

    private TestGateway Gateway => fixture.Gateway;

    private string Installed => Path.Combine(_home, ".local", "bin", "synapse-client");

    [Fact]
    public async Task OneLiner_FreshMachine_InstallsStartsAndServesAChat()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);

        await using (var first = RunOneLiner("curl -fsSL", upstream))
        {
            await TestAgent.WaitForModelAsync(Gateway, model, 1);
            using var client = Gateway.CreateClient();
            Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
            Assert.Contains("installing synapse-client", first.Output, StringComparison.Ordinal);
        }

        Assert.True(File.Exists(Installed));
        Assert.True(File.GetUnixFileMode(Installed).HasFlag(UnixFileMode.UserExecute));
        var installedAt = File.GetLastWriteTimeUtc(Installed);
        await WaitGoneAsync(model);

        // A second run finds the right version in place and downloads nothing.
        await using var second = RunOneLiner("curl -fsSL", upstream);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);
        Assert.Contains("already installed", second.Output, StringComparison.Ordinal);
        Assert.Equal(installedAt, File.GetLastWriteTimeUtc(Installed));
    }

    /// <summary>A one-liner written for the Go server: its client's flag names, the upstream's key required.</summary>
    [Fact]
    public async Task OneLiner_WithTheGoClientsFlagNames_AttachesTheUpstreamWithItsKey()
    {
        const string upstreamKey = "go-style-upstream-key-31f0";
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        upstream.RequiredApiKey = upstreamKey;

        await using var agent = ProductProcess.StartShell(
            $"curl -fsSL '{Gateway.BaseUrl}/run' | bash -s -- --base-url '{upstream.Url}/v1' --api-key '{upstreamKey}' --name 'go-style-{Guid.NewGuid():N}'",
            new Dictionary<string, string> { ["HOME"] = _home },
            _home);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);
        using var client = Gateway.CreateClient();

        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
        Assert.Equal($"Bearer {upstreamKey}", upstream.Requests.Last(r => r.Path == "/v1/chat/completions").Headers["Authorization"]);
        Assert.DoesNotContain(upstreamKey, agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneLiner_WithWgetOnly_InstallsAndStarts()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        var tools = Directory.CreateTempSubdirectory("synapse-tools-").FullName;
        foreach (var tool in new[] { "bash", "wget", "uname", "grep", "head", "sort", "mkdir", "mktemp", "chmod", "mv", "rm", "ldd", "ldconfig", "printf" })
        {
            var path = new[] { "/usr/bin", "/bin", "/usr/sbin", "/sbin" }.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
            if (path is not null)
            {
                File.CreateSymbolicLink(Path.Combine(tools, tool), path);
            }
        }

        await using var run = RunOneLiner("wget -qO-", upstream, path: tools);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);

        Assert.DoesNotContain("curl", run.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Installed));
    }

    [Fact]
    public async Task OneLiner_OlderClientInstalled_UpdatesIt()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        Directory.CreateDirectory(Path.GetDirectoryName(Installed)!);
        await File.WriteAllTextAsync(Installed, "#!/usr/bin/env bash\necho 0.0.1\n");
        File.SetUnixFileMode(Installed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        await using var run = RunOneLiner("curl -fsSL", upstream);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);

        Assert.Contains("updating synapse-client 0.0.1 to 0.1.0", run.Output, StringComparison.Ordinal);
        var (code, version) = await ProductProcessRunAsync(Installed, "--version");
        Assert.Equal(0, code);
        Assert.Equal(Synapse.Protocol.ProtocolVersion.Product, version.Trim());
    }

    [Fact]
    public async Task Run_ServesAScriptForTheGatewayItCameFrom()
    {
        using var client = Gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("/run", UriKind.Relative));
        var script = await response.Content.ReadAsStringAsync();
        var port = new Uri(Gateway.BaseUrl).Port;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/x-shellscript", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("set -euo pipefail", script, StringComparison.Ordinal);
        Assert.Contains($"SYNAPSE_SERVER_URL='ws://127.0.0.1:{port}/ws'", script, StringComparison.Ordinal);
        Assert.Contains("\"$@\"", script, StringComparison.Ordinal);
        var (code, output) = await ProductProcessRunAsync("bash", "-n", "-c", script);
        Assert.True(code == 0, output);
    }

    [Theory]
    [InlineData("a$(id)")]
    [InlineData("x&&id")]
    [InlineData("my_gateway:8080")]
    public async Task Run_HostThatIsNoValidName_AnswersAFailingScriptThatNeverEchoesIt(string host)
    {
        var (status, body) = await RawGetAsync("/run", host);
        var (code, stdout, stderr) = await PipedBash.RunAsync(body);

        Assert.Equal(200, status);
        Assert.DoesNotContain(host, body, StringComparison.Ordinal);
        Assert.DoesNotContain("SYNAPSE_SERVER_URL", body, StringComparison.Ordinal);
        Assert.Equal(Synapse.Silo.Install.InstallScript.FailureExitCode, code);
        Assert.Equal(string.Empty, stdout);
        Assert.StartsWith("synapse: error: the gateway cannot tell its own address from the Host header", stderr, StringComparison.Ordinal);
    }

    /// <summary>Kestrel itself refuses these before any endpoint runs (400, empty body): no script, and no echo either.</summary>
    [Theory]
    [InlineData("host`id`")]
    [InlineData("a';id;'")]
    [InlineData("a|b")]
    public async Task Run_HostKestrelRefuses_IsNeverEchoedIntoAScript(string host)
    {
        var (status, body) = await RawGetAsync("/run", host);

        Assert.Equal(400, status);
        Assert.DoesNotContain("#!/usr/bin/env bash", body, StringComparison.Ordinal);
        Assert.DoesNotContain(host, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneLiner_PlatformTheGatewayLacks_SaysWhichAndHowToBuildIt()
    {
        // This machine claims to be aarch64; the gateway serves linux-x64 only.
        var tools = Directory.CreateDirectory(Path.Combine(_home, "tools")).FullName;
        var uname = Path.Combine(tools, "uname");
        await File.WriteAllTextAsync(uname, """
            #!/usr/bin/env bash
            if [ "$1" = -m ]; then echo aarch64; else exec /usr/bin/uname "$@"; fi

            """);
        File.SetUnixFileMode(uname, (UnixFileMode)Convert.ToInt32("755", 8));

        await using var run = ProductProcess.StartShell(
            $"curl -fsSL '{Gateway.BaseUrl}/run' | bash -s -- --upstream http://127.0.0.1:9",
            new Dictionary<string, string> { ["HOME"] = _home, ["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH") },
            _home);
        var code = await run.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, code);
        Assert.Contains("synapse: error: this gateway has no agent for linux-arm64 (it has: linux-x64); on the gateway, run make all RID=linux-arm64", run.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Installed));
    }

    [Fact]
    public async Task Run_ForwardedHostIgnoredUnlessTrusted()
    {
        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/run");
        request.Headers.Add("X-Forwarded-Host", "evil.example';touch /tmp/x;'");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await client.SendAsync(request);
        var script = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("evil", script, StringComparison.Ordinal);
        Assert.Contains("ws://127.0.0.1:", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetClient_ServesTheBinaryWithLengthAndAttachmentName()
    {
        using var client = Gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("/getclient?os=linux&arch=x64", UriKind.Relative));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        using var missing = await client.GetAsync(new Uri("/getclient?os=linux&arch=arm64", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new FileInfo(fixture.Agent.Binary).Length, response.Content.Headers.ContentLength);
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.Equal("synapse-client", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("client_not_found", await Json.ReadErrorCodeAsync(missing));
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

    private ProductProcess RunOneLiner(string fetch, FakeUpstream upstream, string? path = null)
    {
        var environment = new Dictionary<string, string> { ["HOME"] = _home };
        if (path is not null)
        {
            environment["PATH"] = path;
        }

        return ProductProcess.StartShell(
            $"{fetch} '{Gateway.BaseUrl}/run' | bash -s -- --upstream '{upstream.Url}/v1' --name 'installed-{Guid.NewGuid():N}' --discovery-interval 1",
            environment,
            _home);
    }

    private async Task WaitGoneAsync(string model)
    {
        using var client = Gateway.CreateClient();
        await Eventually.UntilAsync(
            async () => (await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative))).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(10),
            "the stopped agent's model is withdrawn");
    }

    private static async Task<(int Code, string Output)> ProductProcessRunAsync(string program, params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output + errors);
    }

    /// <summary>A request with exactly the Host header given, which HttpClient would refuse to send.</summary>
    private async Task<(int Status, string Body)> RawGetAsync(string path, string host)
    {
        var port = new Uri(Gateway.BaseUrl).Port;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        var status = int.Parse(response.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var body = response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        return (status, body);
    }
}
