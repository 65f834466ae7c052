using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

[Collection(GatewayCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class FailoverTests(GatewayFixture fixture)
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task TwoAgents_ShareTheLoad()
    {
        var model = GatewayFixture.UniqueModel();
        await using var first = await FakeUpstream.StartAsync("u1", model);
        await using var second = await FakeUpstream.StartAsync("u2", model);
        await using var agent1 = await TestAgent.StartServingAsync(Gateway, first, model);
        await using var agent2 = TestAgent.Start(Gateway.WsUrl, second);
        await TestAgent.WaitForModelAsync(Gateway, model, 2);

        using var client = Gateway.CreateClient();
        var calls = Enumerable.Range(0, 40).Select(_ => ChatCalls.PostAsync(client, model, delayMs: 20));
        var responses = await Task.WhenAll(calls);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r));
        Assert.InRange(first.Requests.Count, 8, 32);
        Assert.InRange(second.Requests.Count, 8, 32);
    }

    [Fact]
    public async Task UpstreamRefusesConnections_RequestIsRetriedOnAnotherInstance()
    {
        var model = GatewayFixture.UniqueModel();
        var broken = await FakeUpstream.StartAsync("broken", model);
        await using var healthy = await FakeUpstream.StartAsync("healthy", model);
        await using var agent1 = await TestAgent.StartServingAsync(Gateway, broken, model, o => o.DiscoveryInterval = TimeSpan.FromMinutes(5));
        await using var agent2 = TestAgent.Start(Gateway.WsUrl, healthy);
        await TestAgent.WaitForModelAsync(Gateway, model, 2);
        await broken.DisposeAsync();

        using var client = Gateway.CreateClient();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
        }

        Assert.Equal(10, healthy.Requests.Count(r => r.Path == "/v1/chat/completions"));
    }

    [Fact]
    public async Task Upstream503BeforeAnswering_RequestIsRetriedOnAnotherInstance()
    {
        var model = GatewayFixture.UniqueModel();
        await using var overloaded = await FakeUpstream.StartAsync("overloaded", model);
        overloaded.ForcedStatus = 503;
        await using var healthy = await FakeUpstream.StartAsync("healthy", model);
        await using var agent1 = await TestAgent.StartServingAsync(Gateway, overloaded, model);
        await using var agent2 = TestAgent.Start(Gateway.WsUrl, healthy);
        await TestAgent.WaitForModelAsync(Gateway, model, 2);

        using var client = Gateway.CreateClient();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
        }

        Assert.Equal(10, healthy.Requests.Count);
    }

    [Fact]
    public async Task AgentKilledMidStream_StreamEndsWithAnSseErrorWithinASecond()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        using var client = Gateway.CreateClient();
        using var response = await ChatCalls.StreamAsync(client, model, tokens: 100, delayMs: 100);
        var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("tok0", await reader.NextDataAsync(), StringComparison.Ordinal);

        var killed = Stopwatch.StartNew();
        agent.Kill();
        var rest = await reader.ReadAllDataAsync().WaitAsync(TimeSpan.FromSeconds(5));
        killed.Stop();
        await agent.DisposeAsync();

        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(1), $"the stream ended {killed.Elapsed.TotalMilliseconds:0} ms after the agent died");
        var error = JsonDocument.Parse(rest[^1]).RootElement.GetProperty("error");
        Assert.Equal("agent_disconnected", error.GetProperty("code").GetString());
        Assert.DoesNotContain("[DONE]", rest);
    }

    [Fact]
    public async Task AgentKilledDuringNonStreamingAnswer_CallerGets502Json()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        using var client = Gateway.CreateClient();
        var call = ChatCalls.PostRawAsync(client, model, tokens: 50, delayMs: 100);
        await Eventually.UntilAsync(() => upstream.Active > 0, TimeSpan.FromSeconds(5), "the upstream is generating");
        agent.Kill();
        using var response = await call.WaitAsync(TimeSpan.FromSeconds(5));
        await agent.DisposeAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("agent_disconnected", await Json.ReadErrorCodeAsync(response));
    }

    [Fact]
    public async Task AgentKilledBeforeAnythingReachedTheCaller_RequestIsRetriedOnAnotherInstance()
    {
        var model = GatewayFixture.UniqueModel();
        await using var doomed = await FakeUpstream.StartAsync("doomed", model);
        await using var healthy = await FakeUpstream.StartAsync("healthy", model);
        var agent1 = await TestAgent.StartServingAsync(Gateway, doomed, model);

        using var client = Gateway.CreateClient();
        var call = ChatCalls.PostRawAsync(client, model, tokens: 20, delayMs: 100);
        await Eventually.UntilAsync(() => doomed.Active > 0, TimeSpan.FromSeconds(5), "the first instance is generating");
        await using var agent2 = TestAgent.Start(Gateway.WsUrl, healthy);
        await TestAgent.WaitForModelAsync(Gateway, model, 2);
        agent1.Kill();
        using var response = await call.WaitAsync(TimeSpan.FromSeconds(20));
        await agent1.DisposeAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("healthy", (await Json.ReadAsync(response)).GetProperty("instance").GetString());
    }

    [Fact]
    public async Task CallerDisconnects_UpstreamSeesTheCloseWithinASecondAndCapacityIsFreed()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        var client = Gateway.CreateClient();
        var response = await ChatCalls.StreamAsync(client, model, tokens: 200, delayMs: 50);
        var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("tok0", await reader.NextDataAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await Gateway.InFlightAsync(model));

        var gone = Stopwatch.StartNew();
        response.Dispose();
        client.Dispose();
        var received = upstream.Requests.Single();
        await Eventually.UntilAsync(() => received.Aborted, TimeSpan.FromSeconds(5), "the upstream saw the connection close");
        gone.Stop();

        Assert.True(gone.Elapsed < TimeSpan.FromSeconds(1), $"the upstream saw the close after {gone.Elapsed.TotalMilliseconds:0} ms");
        Assert.False(received.Completed);
        await Eventually.UntilAsync(async () => await Gateway.InFlightAsync(model) == 0, TimeSpan.FromSeconds(5), "the instance's in-flight count is back to 0");
    }
}
