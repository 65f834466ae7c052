using System.Net;
using System.Text;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// One gateway for the hostile battery, set up as in production (both keys, an upstream key on the agent) but with
/// tight limits so that abuse is cut off within a second or two: a 1 MiB body limit, a 1 s header timeout, a 1.5 s
/// body grace period, a 2 s handshake timeout. One real agent serves <see cref="Model"/> throughout, so every test can
/// check that the gateway still serves everyone else after its abuse.
/// </summary>
public sealed class HostileFixture : IAsyncLifetime
{
    public const string ApiKey = "hostile-api-key-4e1f0b";
    public const string WsKey = "hostile-ws-key-9a27cd";
    public const string UpstreamKey = "hostile-upstream-key-77d3e1";
    public const string AllowedOrigin = "https://ops.example";
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Every secret the battery uses; none may ever appear in a log.</summary>
    public static readonly string[] Secrets = [ApiKey, WsKey, UpstreamKey];

    public TestGateway Gateway { get; private set; } = null!;

    public FakeUpstream Upstream { get; private set; } = null!;

    public TestAgent Agent { get; private set; } = null!;

    public string Model { get; } = GatewayFixture.UniqueModel("hostile");

    public async Task InitializeAsync()
    {
        Gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Gateway:ApiAuthKey"] = ApiKey,
            ["Synapse:Gateway:WsAuthKey"] = WsKey,
            ["Synapse:Gateway:MaxRequestBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Synapse:Gateway:RequestHeadersTimeout"] = "00:00:01",
            ["Synapse:Gateway:RequestBodyGracePeriod"] = "00:00:01.5",
            ["Synapse:Gateway:AllowedWebSocketOrigins:0"] = AllowedOrigin,
            ["Synapse:Agents:HeartbeatInterval"] = "00:00:01",
            ["Synapse:Agents:HeartbeatTimeout"] = "00:00:15",
            ["Synapse:Agents:HandshakeTimeout"] = "00:00:02",
            ["Synapse:Balancing:ReconnectGrace"] = "00:00:01",
        });
        Upstream = await FakeUpstream.StartAsync("hostile", Model);
        Upstream.RequiredApiKey = UpstreamKey;
        Agent = await TestAgent.StartServingAsync(Gateway, Upstream, Model, o =>
        {
            o.WsAuthKey = WsKey;
            o.UpstreamApiKey = UpstreamKey;
        });
    }

    public async Task DisposeAsync()
    {
        await Agent.DisposeAsync();
        await Upstream.DisposeAsync();
        await Gateway.DisposeAsync();
    }

    public HttpClient CreateClient() => Gateway.CreateClient(ApiKey);

    /// <summary>The gateway still serves a normal caller: one chat through the fixture's agent succeeds.</summary>
    public async Task StillServesAsync()
    {
        using var client = CreateClient();
        using var response = await client.PostAsync(
            new Uri("/v1/chat/completions", UriKind.Relative),
            new StringContent($$"""{"model":"{{Model}}","messages":[{"role":"user","content":"still there?"}]}""", Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"a normal chat answered {(int)response.StatusCode}: {body}");
        Assert.Contains("tok0", body, StringComparison.Ordinal);
    }

    /// <summary>No key, and no other string the test names, in any log line of the gateway or the agent.</summary>
    public void AssertLogsFreeOf(params string[] more)
    {
        foreach (var secret in Secrets.Concat(more))
        {
            Assert.DoesNotContain(secret, Gateway.Log.All, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, Agent.Log.All, StringComparison.Ordinal);
        }
    }

    public Task<RawAgent> ConnectRawAgentAsync(Action<System.Net.WebSockets.ClientWebSocketOptions>? configure = null) =>
        RawAgent.ConnectAsync(Gateway.WsUrl, WsKey, configure);
}

/// <summary>
/// The hostile battery runs alone: its timing assertions (slow clients cut off within seconds) and memory assertions
/// (the gateway is in this process) would be noise with other collections running beside it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileCollection : ICollectionFixture<HostileFixture>
{
    public const string Name = "hostile";
}
