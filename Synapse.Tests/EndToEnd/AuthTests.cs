using System.Net;
using System.Net.WebSockets;
using System.Text;
using Synapse.Client.Hosting;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

/// <summary>A gateway with both keys set.</summary>
public sealed class SecuredGatewayFixture : IAsyncLifetime
{
    public const string ApiKey = "api-key-7f3a9c";
    public const string WsKey = "ws-key-51bd02";

    public TestGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
    {
        ["Synapse:Gateway:ApiAuthKey"] = ApiKey,
        ["Synapse:Gateway:WsAuthKey"] = WsKey,
    });

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

[Trait("Category", "EndToEnd")]
public sealed class AuthTests(SecuredGatewayFixture fixture) : IClassFixture<SecuredGatewayFixture>
{
    private const string UpstreamKey = "upstream-key-c0ffee";

    private TestGateway Gateway => fixture.Gateway;

    [Theory]
    [InlineData(null, null)]
    [InlineData("Bearer wrong", null)]
    [InlineData(null, "wrong")]
    [InlineData("Basic " + SecuredGatewayFixture.ApiKey, null)]
    public async Task Api_MissingOrWrongKey_Answers401(string? authorization, string? xApiKey)
    {
        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (xApiKey is not null)
        {
            request.Headers.Add("X-API-Key", xApiKey);
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_api_key", await Json.ReadErrorCodeAsync(response));
    }

    [Fact]
    public async Task Status_Json_NeedsTheApiKeyButThePageDoesNot()
    {
        using var client = Gateway.CreateClient();
        using var anonymous = await client.GetAsync(new Uri("/status", UriKind.Relative));
        using var page = await client.GetAsync(new Uri("/", UriKind.Relative));
        using var keyed = new HttpRequestMessage(HttpMethod.Get, "/status");
        keyed.Headers.Add("X-API-Key", SecuredGatewayFixture.ApiKey);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(keyed)).StatusCode);
    }

    [Fact]
    public async Task Api_KeyAsBearerOrXApiKey_IsAccepted()
    {
        using var client = Gateway.CreateClient();
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        bearer.Headers.Add("Authorization", $"Bearer {SecuredGatewayFixture.ApiKey}");
        using var header = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        header.Headers.Add("X-API-Key", SecuredGatewayFixture.ApiKey);

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(bearer)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(header)).StatusCode);
    }

    [Fact]
    public async Task CallerKey_NeverReachesUpstream_WhichGetsOnlyItsOwnKey()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        upstream.RequiredApiKey = UpstreamKey;
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o =>
        {
            o.WsAuthKey = SecuredGatewayFixture.WsKey;
            o.UpstreamApiKey = UpstreamKey;
        });

        using var client = Gateway.CreateClient(SecuredGatewayFixture.ApiKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-API-Key", SecuredGatewayFixture.ApiKey);
        request.Headers.Add("Cookie", "session=secret");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = upstream.Requests.Single(r => r.Path == "/v1/chat/completions");
        Assert.Equal($"Bearer {UpstreamKey}", received.Headers["Authorization"]);
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains(SecuredGatewayFixture.ApiKey, StringComparison.Ordinal));
        Assert.False(received.Headers.ContainsKey("X-API-Key"));
        Assert.False(received.Headers.ContainsKey("Cookie"));
    }

    [Fact]
    public async Task Keys_NeverAppearInLogs()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        upstream.RequiredApiKey = UpstreamKey;
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o =>
        {
            o.WsAuthKey = SecuredGatewayFixture.WsKey;
            o.UpstreamApiKey = UpstreamKey;
        });
        using var client = Gateway.CreateClient(SecuredGatewayFixture.ApiKey);
        await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent($$"""{"model":"{{model}}"}""", Encoding.UTF8, "application/json"));
        await using var intruder = TestAgent.Start(Gateway.WsUrl, upstream, o => o.WsAuthKey = "wrong-" + SecuredGatewayFixture.WsKey);
        await intruder.Run.WaitAsync(TimeSpan.FromSeconds(20));

        foreach (var secret in new[] { SecuredGatewayFixture.ApiKey, SecuredGatewayFixture.WsKey, UpstreamKey })
        {
            Assert.DoesNotContain(secret, Gateway.Log.All, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, agent.Log.All, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, intruder.Log.All, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WebSocket_WrongKey_IsRefusedWith401BeforeTheUpgrade()
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer not-the-key");

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(Gateway.WsUrl, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }

    [Fact]
    public async Task WebSocket_KeyInQueryString_IsNotAccepted()
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var url = new Uri(Gateway.WsUrl + "?ws_auth_key=" + SecuredGatewayFixture.WsKey);

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(url, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }

    [Fact]
    public async Task Agent_WrongKey_ExitsWithUnauthorizedAndSaysWhy()
    {
        await using var upstream = await FakeUpstream.StartAsync("u1", GatewayFixture.UniqueModel());
        await using var agent = TestAgent.Start(Gateway.WsUrl, upstream, o => o.WsAuthKey = "wrong");

        var exitCode = await agent.Run.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(AgentExitCodes.Unauthorized, exitCode);
        Assert.Contains("--ws-auth-key", agent.Log.All, StringComparison.Ordinal);
    }
}
