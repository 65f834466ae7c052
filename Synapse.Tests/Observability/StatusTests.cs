using System.Net;
using System.Text.Json;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Observability;

[Collection(GatewayCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class StatusTests(GatewayFixture fixture)
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Status_FollowsAgentsJoiningLoadAndLeaving()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o => o.MaxConcurrency = 5);
        using var client = Gateway.CreateClient();

        var joined = await WaitForAsync(client, s => Instance(s, model) is { } i && i.GetProperty("state").GetString() == "ready");
        var instance = Instance(joined, model)!.Value;
        Assert.Equal(agent.App.AgentId, instance.GetProperty("agentId").GetString());
        Assert.Equal(agent.Options.Name, instance.GetProperty("name").GetString());
        Assert.Equal(5, instance.GetProperty("capacity").GetInt32());
        Assert.Single(instance.GetProperty("silos").EnumerateArray());
        Assert.True(instance.TryGetProperty("lastHeartbeat", out _));
        var agentEntry = joined.GetProperty("agents").EnumerateArray().Single(a => a.GetProperty("agentId").GetString() == agent.App.AgentId);
        Assert.Equal(model, agentEntry.GetProperty("models")[0].GetString());
        Assert.Contains(joined.GetProperty("silos").EnumerateArray(), s => s.GetProperty("local").GetBoolean() && s.GetProperty("status").GetString() == "Active");

        using var stream = await ChatCalls.StreamAsync(client, model, tokens: 200, delayMs: 50);
        await WaitForAsync(client, s => Instance(s, model) is { } i && i.GetProperty("inFlight").GetInt32() == 1);
        stream.Dispose();
        await WaitForAsync(client, s => Instance(s, model) is { } i && i.GetProperty("inFlight").GetInt32() == 0);

        await agent.DisposeAsync();
        await WaitForAsync(client, s => Instance(s, model) is null);
    }

    [Fact]
    public async Task Status_ForABrowser_IsTheStatusPageAndForJsonIsData()
    {
        using var client = Gateway.CreateClient();
        using var page = new HttpRequestMessage(HttpMethod.Get, "/status");
        page.Headers.Add("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
        using var html = await client.SendAsync(page);
        using var root = await client.GetAsync(new Uri("/", UriKind.Relative));
        using var json = await client.GetAsync(new Uri("/status", UriKind.Relative));

        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text/html", root.Content.Headers.ContentType?.MediaType);
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.Equal(JsonValueKind.Array, (await Json.ReadAsync(json)).GetProperty("models").ValueKind);
    }

    private static JsonElement? Instance(JsonElement status, string model)
    {
        foreach (var entry in status.GetProperty("models").EnumerateArray())
        {
            if (entry.GetProperty("id").GetString() == model && entry.GetProperty("instances").GetArrayLength() > 0)
            {
                return entry.GetProperty("instances")[0];
            }
        }

        return null;
    }

    private static async Task<JsonElement> WaitForAsync(HttpClient client, Func<JsonElement, bool> condition)
    {
        JsonElement last = default;
        await Eventually.UntilAsync(
            async () =>
            {
                using var response = await client.GetAsync(new Uri("/status", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                last = await Json.ReadAsync(response);
                return condition(last);
            },
            TimeSpan.FromSeconds(10),
            "the status shows the expected state");
        return last;
    }
}
