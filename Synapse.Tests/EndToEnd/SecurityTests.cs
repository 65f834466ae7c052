using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

/// <summary>A gateway that lets one browser origin open agent sockets (a status dashboard, say) and no other.</summary>
public sealed class OriginGatewayFixture : IAsyncLifetime
{
    public const string AllowedOrigin = "https://ops.example.com";

    public TestGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
    {
        ["Synapse:Gateway:AllowedWebSocketOrigins:0"] = AllowedOrigin,
    });

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

public sealed class SecurityTests(OriginGatewayFixture fixture) : IClassFixture<OriginGatewayFixture>
{
    private TestGateway Gateway => fixture.Gateway;

    [Theory]
    [InlineData("https://evil.example.com")]
    [InlineData("null")]
    [InlineData("https://ops.example.com.evil.example")]
    public async Task WebSocket_FromABrowserOriginNotAllowed_IsRefusedWith403(string origin)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", origin);
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(Gateway.WsUrl, CancellationToken.None));

        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
        Assert.Contains("browser origin", Gateway.Log.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSocket_FromTheAllowedOrigin_IsUpgraded()
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", OriginGatewayFixture.AllowedOrigin);

        await socket.ConnectAsync(Gateway.WsUrl, CancellationToken.None);

        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task HopByHopAndProxyOnlyHeaders_AreStrippedOnTheWayToTheUpstream()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Connection.Add("X-Hop-Secret");
        request.Headers.Add("X-Hop-Secret", "named-in-connection");
        request.Headers.Add("Keep-Alive", "timeout=5");
        request.Headers.Add("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0");
        request.Headers.Add("Forwarded", "for=10.0.0.1");
        request.Headers.Add("X-Forwarded-For", "10.0.0.1");
        request.Headers.Add("X-Real-IP", "10.0.0.1");
        request.Headers.Add("Via", "1.1 corporate-proxy");
        request.Headers.Add("X-Request-Tag", "kept");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = upstream.Requests.Single().Headers;
        foreach (var name in new[] { "X-Hop-Secret", "Keep-Alive", "Proxy-Authorization", "Forwarded", "X-Forwarded-For", "X-Real-IP", "Via" })
        {
            Assert.False(received.ContainsKey(name), $"{name} reached the upstream");
        }

        Assert.Equal("kept", received["X-Request-Tag"]);
    }

    [Fact]
    public async Task KeysFromFiles_AreEnforcedUsedAndNeverPrintedByEitherProcess()
    {
        const string apiKey = "file-api-key-4d2e";
        const string wsKey = "file-ws-key-9a81";
        const string upstreamKey = "file-upstream-key-77c3";
        var folder = Directory.CreateTempSubdirectory("synapse-keys-");
        try
        {
            string Write(string name, string key)
            {
                var path = Path.Combine(folder.FullName, name);
                File.WriteAllText(path, key + "\n");
                return path;
            }

            var model = GatewayFixture.UniqueModel();
            await using var upstream = await FakeUpstream.StartAsync("u1", model);
            upstream.RequiredApiKey = upstreamKey;
            var port = FreePorts.Next();
            await using var gateway = ProductProcess.Start(
                ProductProcess.Gateway,
                [
                    "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
                    "--silo-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture), "--gateway-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                    "--api-auth-key-file", Write("api", apiKey), "--ws-auth-key-file", Write("ws", wsKey),
                ]);
            await using var agent = ProductProcess.Start(
                ProductProcess.Agent,
                [
                    "--upstream", upstream.Url, "--server-url", $"ws://127.0.0.1:{port}/ws",
                    "--ws-auth-key-file", Write("agent-ws", wsKey), "--upstream-api-key-file", Write("upstream", upstreamKey),
                ]);
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
            await Eventually.UntilAsync(
                async () =>
                {
                    try
                    {
                        return (await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative))).IsSuccessStatusCode;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                TimeSpan.FromSeconds(30),
                "the agent, holding the key from its file, registered");

            using var unauthorized = new HttpClient { BaseAddress = client.BaseAddress };
            Assert.Equal(HttpStatusCode.Unauthorized, (await unauthorized.GetAsync(new Uri("/v1/models", UriKind.Relative))).StatusCode);
            using var answer = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent($$"""{"model":"{{model}}"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal($"Bearer {upstreamKey}", upstream.Requests.Single(r => r.Path == "/v1/chat/completions").Headers["Authorization"]);
            foreach (var key in new[] { apiKey, wsKey, upstreamKey })
            {
                Assert.DoesNotContain(key, gateway.Output, StringComparison.Ordinal);
                Assert.DoesNotContain(key, agent.Output, StringComparison.Ordinal);
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
