using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Synapse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Synapse.Tests.EndToEnd;

/// <summary>
/// Balancing on what the engines report, end to end: real agents read fake engines' real vLLM <c>/metrics</c> and
/// the gateway's model grain routes by it (the default policy, <c>EngineAware</c>).
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(GatewayCollection.Name)]
public sealed class EngineRoutingTests(GatewayFixture fixture, ITestOutputHelper output)
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task EngineReportsALongQueue_TrafficGoesToTheOtherInstanceWithinASecond()
    {
        await using var pair = await EnginePair.StartAsync(Gateway);
        using var client = Gateway.CreateClient();
        Assert.True((await pair.SendAsync(client, 20)).Values.All(n => n > 0), "both instances serve while both engines are idle");

        pair.First.Engine.SetLoad(pair.Model, running: 4, waiting: 50, kvUsage: 0.3);
        var changed = Stopwatch.StartNew();
        var streakStart = await pair.StreakOnAsync(client, pair.Second, length: 20, changed, TimeSpan.FromSeconds(10));

        output.WriteLine($"every call went to the instance without a queue from {streakStart.TotalMilliseconds:F0} ms after the engine's queue grew");
        Assert.True(streakStart < TimeSpan.FromSeconds(1), $"traffic moved after {streakStart.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task EngineKvCacheAboveThreshold_IsAvoided_UnlessEveryEngineIs()
    {
        await using var pair = await EnginePair.StartAsync(Gateway);
        using var client = Gateway.CreateClient();

        pair.First.Engine.SetLoad(pair.Model, running: 1, waiting: 0, kvUsage: 0.95);
        await pair.GrainSeesAsync(pair.First, l => l.KvUsage == 0.95);
        Assert.Equal(0, (await pair.SendAsync(client, 20))[pair.First]);

        pair.Second.Engine.SetLoad(pair.Model, running: 1, waiting: 0, kvUsage: 0.97);
        await pair.GrainSeesAsync(pair.Second, l => l.KvUsage == 0.97);
        var both = await pair.SendAsync(client, 40);
        Assert.True(both[pair.First] > 0 && both[pair.Second] > 0, $"every cache nearly full: both serve ({both[pair.First]}/{both[pair.Second]})");
    }

    [Fact]
    public async Task EngineSignalsStop_PolicyFallsBackToInFlightCounts()
    {
        await using var pair = await EnginePair.StartAsync(Gateway);
        using var client = Gateway.CreateClient();
        pair.First.Engine.SetLoad(pair.Model, running: 4, waiting: 50, kvUsage: 0.3);
        await pair.GrainSeesAsync(pair.First, l => l.Waiting == 50);
        Assert.Equal(0, (await pair.SendAsync(client, 10))[pair.First]);

        // Its /metrics fails from now on: the agent withdraws the stale reading after three intervals.
        pair.First.Engine.Body = FakeEngineBody.ServerError;
        var stopped = Stopwatch.StartNew();
        await Eventually.UntilAsync(
            async () => (await pair.SendAsync(client, 1))[pair.First] > 0,
            TimeSpan.FromSeconds(10),
            "the instance whose signals stopped gets calls again");

        output.WriteLine($"calls went back to the instance {stopped.ElapsedMilliseconds} ms after its engine stopped answering");
        Assert.Null((await Gateway.SnapshotAsync(pair.Model)).Instances.Single(i => i.Name == pair.AgentOf(pair.First)).Engine);
    }

    [Fact]
    public async Task Conversations_StayOnTheirInstance_WhileLoadStaysWithinBounds()
    {
        const int conversations = 20;
        const int turns = 10;
        var model = GatewayFixture.UniqueModel("affinity");
        var upstreams = new List<FakeUpstream>();
        var agents = new List<TestAgent>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                upstreams.Add(await FakeUpstream.StartAsync($"u{i}", model));
                agents.Add(TestAgent.Start(Gateway.WsUrl, upstreams[i], o => o.MaxConcurrency = 16));
            }

            await TestAgent.WaitForModelAsync(Gateway, model, 4);
            using var client = Gateway.CreateClient();
            await Task.WhenAll(Enumerable.Range(0, conversations).Select(c => ConverseAsync(client, model, c, turns)));

            var served = upstreams.SelectMany(u => u.Requests.Select(r => (Upstream: u.Name, Conversation: ConversationOf(r.Body), Turn: TurnOf(r.Body))));
            foreach (var conversation in served.GroupBy(s => s.Conversation))
            {
                output.WriteLine(string.Join(" ", conversation.OrderBy(s => s.Turn).Select(s => s.Upstream)));
            }

            var onHome = served.GroupBy(s => s.Conversation).Sum(g => g.GroupBy(s => s.Upstream).Max(h => h.Count()));
            var peaks = upstreams.Select(u => u.PeakActive).ToArray();
            output.WriteLine($"{onHome} of {conversations * turns} turns on their conversation's instance; per instance: {string.Join(", ", upstreams.Select(u => $"{u.Requests.Count} calls, peak {u.PeakActive} at once"))}");

            Assert.True(onHome >= 0.9 * conversations * turns, $"{onHome} of {conversations * turns} turns on their conversation's instance");

            // Bounded load: at most 1.25 times an instance's share of the 20 calls in flight, rounded up.
            Assert.All(peaks, p => Assert.InRange(p, 0, (int)Math.Ceiling(1.25 * conversations / 4)));
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }

            foreach (var upstream in upstreams)
            {
                await upstream.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Conversation_InAModelWithAffinityOff_IsSpreadLikeAnyCall()
    {
        var model = GatewayFixture.AffinityOffModel;
        await using var first = await FakeUpstream.StartAsync("u1", model);
        await using var second = await FakeUpstream.StartAsync("u2", model);
        await using var agent1 = await TestAgent.StartServingAsync(Gateway, first, model);
        await using var agent2 = TestAgent.Start(Gateway.WsUrl, second);
        await TestAgent.WaitForModelAsync(Gateway, model, 2);
        using var client = Gateway.CreateClient();

        await ConverseAsync(client, model, conversation: 1, turns: 30);

        Assert.True(first.Requests.Count >= 5 && second.Requests.Count >= 5, $"split {first.Requests.Count}/{second.Requests.Count}");
    }

    /// <summary>One conversation: each turn sends the whole history so far, as chat clients do.</summary>
    private static async Task ConverseAsync(HttpClient client, string model, int conversation, int turns)
    {
        var messages = new JsonArray
        {
            new JsonObject { ["role"] = "system", ["content"] = $"You are assistant number {conversation}. Answer briefly." },
            new JsonObject { ["role"] = "user", ["content"] = $"Conversation {conversation}: where do we start?" },
        };
        for (var turn = 0; turn < turns; turn++)
        {
            var body = new JsonObject { ["model"] = model, ["messages"] = messages.DeepClone() };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Fake-Tokens", "3");
            request.Headers.Add("X-Fake-Delay-Ms", "10");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsByteArrayAsync();
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = $"answer {turn}" });
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = $"and then {turn}?" });
        }
    }

    private static int TurnOf(string body) => JsonNode.Parse(body)!["messages"]!.AsArray().Count;

    private static string ConversationOf(string body) =>
        JsonNode.Parse(body)!["messages"]![0]!["content"]!.GetValue<string>();
}
