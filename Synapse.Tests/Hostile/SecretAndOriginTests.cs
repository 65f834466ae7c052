using System.Net;
using System.Net.WebSockets;
using System.Text;
using Synapse.Client.Hosting;
using Synapse.Protocol.Frames;
using Synapse.Silo.Hosting;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// Keys come from files or the environment and go nowhere else; headers meant for the gateway or a hop stop at it;
/// browsers cannot open the agent socket. (The caller's key and cookies not reaching the upstream, keys from the
/// environment and keys absent from logs of a normal run are in EndToEnd/AuthTests and EndToEnd/ProcessTests.)
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class SecretAndOriginTests(HostileFixture fixture)
{
    private static readonly string[] HopAndProxyHeaders =
    [
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Proxy-Authorization", "X-Hop-Secret", "Forwarded",
        "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Real-IP", "Via", "Cookie", "X-API-Key",
    ];

    /// <remarks>
    /// The Connection header names only a custom header here: when it also says keep-alive or close, Kestrel replaces
    /// its value with that one token before the gateway sees it, and the names beside it are lost (see the report).
    /// </remarks>
    [Fact]
    public async Task HopByHopAndProxyOnlyHeaders_AreStrippedOnTheWayToTheUpstream()
    {
        var before = fixture.Upstream.Requests.Count;
        var body = $$"""{"model":"{{fixture.Model}}"}""";
        var request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + $"X-API-Key: {HostileFixture.ApiKey}\r\n"
            + "Connection: X-Hop-Secret\r\nX-Hop-Secret: hop-value\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
            + "TE: trailers\r\nTrailer: X-Later\r\nProxy-Authorization: Basic cHJveHk6c2VjcmV0\r\nForwarded: for=6.6.6.6;host=evil.example\r\n"
            + "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: 443\r\nX-Real-IP: 6.6.6.6\r\n"
            + "Via: 1.1 evil-proxy\r\nCookie: session=caller-cookie\r\nX-Custom-Kept: kept\r\n"
            + $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}";

        var response = await RawHttp.ExchangeAsync(fixture.Gateway, request);

        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        var received = fixture.Upstream.Requests.Skip(before).Single(r => r.Path == "/v1/chat/completions");
        foreach (var header in HopAndProxyHeaders)
        {
            Assert.False(received.Headers.ContainsKey(header), $"{header} reached the upstream: " + string.Join(" | ", received.Headers.Select(h => $"{h.Key}={h.Value}")));
        }

        Assert.DoesNotContain(received.Headers.Values, v => v.Contains("6.6.6.6", StringComparison.Ordinal) || v.Contains("evil", StringComparison.Ordinal));
        Assert.Equal("kept", received.Headers["X-Custom-Kept"]);
        Assert.Equal($"Bearer {HostileFixture.UpstreamKey}", received.Headers["Authorization"]);
        fixture.AssertLogsFreeOf("cHJveHk6c2VjcmV0", "caller-cookie");
    }

    [Fact]
    public async Task AgentsUpstreamKey_NeverLeavesTheAgent()
    {
        using var client = fixture.CreateClient();
        using var chat = await client.PostAsync(
            new Uri("/v1/chat/completions", UriKind.Relative),
            new StringContent($$"""{"model":"{{fixture.Model}}","stream":true}""", Encoding.UTF8, "application/json"));
        var streamed = await chat.Content.ReadAsStringAsync();
        using var echo = await client.PostAsync(new Uri("/v1/echo/anything", UriKind.Relative), new StringContent($$"""{"model":"{{fixture.Model}}"}""", Encoding.UTF8, "application/json"));
        var echoed = await echo.Content.ReadAsStringAsync();
        var models = await client.GetStringAsync(new Uri("/v1/models", UriKind.Relative));
        var status = await client.GetStringAsync(new Uri("/status", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal(HttpStatusCode.OK, echo.StatusCode);
        foreach (var seen in new[] { streamed, echoed, models, status, chat.Headers.ToString(), chat.Content.Headers.ToString(), echo.Headers.ToString() })
        {
            Assert.DoesNotContain(HostileFixture.UpstreamKey, seen, StringComparison.Ordinal);
        }

        fixture.AssertLogsFreeOf();
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("null")]
    [InlineData("http://127.0.0.1")]
    [InlineData("https://ops.example.evil.example")]
    [InlineData("https://ops.example/")]
    public async Task WebSocket_FromABrowserOriginNotAllowed_IsRefused403EvenWithTheKey(string origin)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", $"Bearer {HostileFixture.WsKey}");
        socket.Options.SetRequestHeader("Origin", origin);

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(fixture.Gateway.WsUrl, CancellationToken.None));

        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
        Assert.Contains(fixture.Gateway.Log.Lines, l => l.Contains("browser origin", StringComparison.Ordinal));
        fixture.AssertLogsFreeOf();
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData(HostileFixture.AllowedOrigin)]
    [InlineData("HTTPS://OPS.EXAMPLE")]
    public async Task WebSocket_FromAnAllowedOrigin_IsAccepted(string origin)
    {
        await using var raw = await fixture.ConnectRawAgentAsync(o => o.SetRequestHeader("Origin", origin));
        await raw.SendHelloAsync(RawAgent.Hello("allowed-origin-" + Guid.NewGuid().ToString("N")[..6], GatewayFixture.UniqueModel("origin")));

        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Gateway_KeysFromFilesOrTheirEnvironmentVariables_AreReadTrimmed()
    {
        using var files = new TempFiles();
        var apiFile = files.Write("api-key-from-file-31b7\n");
        var wsFile = files.Write("  ws-key-from-file-8c02 \r\n");
        var envFile = files.Write("api-key-from-env-file-5d1e\n");

        var fromFlags = await ParseGatewayAsync(["--api-auth-key-file", apiFile, "--ws-auth-key-file", wsFile]);
        Dictionary<string, string?>? fromEnvironment;
        using (new EnvironmentVariable("SYNAPSE_API_AUTH_KEY_FILE", envFile))
        {
            fromEnvironment = await ParseGatewayAsync([]);
        }

        Assert.Equal("api-key-from-file-31b7", fromFlags!["Synapse:Gateway:ApiAuthKey"]);
        Assert.Equal("ws-key-from-file-8c02", fromFlags["Synapse:Gateway:WsAuthKey"]);
        Assert.Equal("api-key-from-env-file-5d1e", fromEnvironment!["Synapse:Gateway:ApiAuthKey"]);
    }

    [Fact]
    public async Task Gateway_EmptyOrMissingKeyFile_RefusesToStart()
    {
        using var files = new TempFiles();
        var empty = files.Write("  \n");

        Assert.Equal(2, await GatewayCommandLine.InvokeAsync(["--api-auth-key-file", empty], (_, _) => Task.FromResult(0)));
        Assert.Equal(2, await GatewayCommandLine.InvokeAsync(["--ws-auth-key-file", empty + ".missing"], (_, _) => Task.FromResult(0)));
    }

    [Fact]
    public async Task Agent_KeysFromFilesOrTheirEnvironmentVariables_AreReadTrimmed()
    {
        using var files = new TempFiles();
        var upstreamFile = files.Write("upstream-key-from-file-0e4a\n");
        var wsFile = files.Write("ws-key-from-env-file-77aa\n");
        AgentOptions? parsed = null;

        int exitCode;
        using (new EnvironmentVariable("SYNAPSE_WS_AUTH_KEY_FILE", wsFile))
        {
            exitCode = await AgentCommandLine.InvokeAsync(["--upstream-api-key-file", upstreamFile], (options, _) =>
            {
                parsed = options;
                return Task.FromResult(0);
            });
        }

        Assert.Equal(0, exitCode);
        Assert.Equal("upstream-key-from-file-0e4a", parsed!.UpstreamApiKey);
        Assert.Equal("ws-key-from-env-file-77aa", parsed.WsAuthKey);
    }

    private static async Task<Dictionary<string, string?>?> ParseGatewayAsync(string[] args)
    {
        Dictionary<string, string?>? captured = null;
        var exitCode = await GatewayCommandLine.InvokeAsync(args, (settings, _) =>
        {
            captured = new Dictionary<string, string?>(settings, StringComparer.OrdinalIgnoreCase);
            return Task.FromResult(0);
        });
        Assert.Equal(0, exitCode);
        return captured;
    }

    private sealed class TempFiles : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("synapse-keys-").FullName;

        public string Write(string content)
        {
            var path = Path.Combine(_folder, Guid.NewGuid().ToString("N"));
            File.WriteAllText(path, content);
            return path;
        }

        public void Dispose() => Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Sets a variable for one scope; safe here because the hostile collection runs alone.</summary>
    private sealed class EnvironmentVariable : IDisposable
    {
        private readonly string _name;
        private readonly string? _previous;

        public EnvironmentVariable(string name, string value)
        {
            _name = name;
            _previous = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose() => Environment.SetEnvironmentVariable(_name, _previous);
    }
}
