using System.Net;
using System.Text.Json;
using Synapse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Synapse.Tests.Cluster;

/// <summary>
/// Three real silo processes against one redis-server; the agent's socket on silo B, callers on silo A.
/// </summary>
[Collection(RedisCollection.Name)]
[Trait("Category", "Process")]
public sealed class ProcessClusterTests(RedisFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task ThreeSilos_AgentOnB_CallersOnA_AnswersArriveCompleteAndInOrder()
    {
        var silos = await fixture.StartClusterAsync();
        await using var a = silos[0];
        await using var b = silos[1];
        await using var c = silos[2];
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = TestAgent.Start([b.WsUrl], upstream.Url, o => o.Connections = 1);
        await a.WaitForModelAsync(model, TimeSpan.FromSeconds(20));

        using var client = a.CreateClient();
        var calls = Enumerable.Range(0, 10).Select(async _ =>
        {
            using var response = await ChatCalls.PostRawAsync(client, model, tokens: 6, delayMs: 0);
            return (await Json.ReadAsync(response)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        });
        var streams = Enumerable.Range(0, 10).Select(async _ =>
        {
            using var response = await ChatCalls.StreamAsync(client, model, tokens: 40, delayMs: 5);
            return await new SseReader(await response.Content.ReadAsStreamAsync()).ReadAllDataAsync();
        });

        Assert.All(await Task.WhenAll(calls), content => Assert.Equal("tok0 tok1 tok2 tok3 tok4 tok5 ", content));
        foreach (var events in await Task.WhenAll(streams))
        {
            var tokens = events.Where(e => e.Contains("\"tok", StringComparison.Ordinal))
                .Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
            Assert.Equal(Enumerable.Range(0, 40).Select(i => $"tok{i} "), tokens);
            Assert.Equal("[DONE]", events[^1]);
        }

        // Cancellation crosses silos too.
        var cancelling = a.CreateClient();
        var stream = await ChatCalls.StreamAsync(cancelling, model, tokens: 400, delayMs: 50);
        var reader = new SseReader(await stream.Content.ReadAsStreamAsync());
        Assert.Contains("tok0", await reader.NextDataAsync(), StringComparison.Ordinal);
        stream.Dispose();
        cancelling.Dispose();
        var cancelled = upstream.Requests.Single(r => r.Tokens == 400);
        await Eventually.UntilAsync(() => cancelled.Aborted, TimeSpan.FromSeconds(2), "the upstream behind silo B saw the caller on silo A go");
    }

    /// <summary>
    /// The only agent's socket is on B. Until membership declares B dead (about 3 s), requests whose answer must
    /// cross a memory-stream queue B held can stall or lose batches; they must end cleanly, never hang. From the
    /// declaration on, every request must succeed, and the model is served again within moments of it.
    /// </summary>
    [Fact]
    public async Task SiloB_KilledUnderLoad_NoRequestHangsAndTheModelIsServedAgainAsSoonAsBIsDeclaredDead()
    {
        var silos = await fixture.StartClusterAsync();
        await using var a = silos[0];
        await using var b = silos[1];
        await using var c = silos[2];
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = TestAgent.Start([b.WsUrl, c.WsUrl], upstream.Url, o => { o.Connections = 1; o.MaxConcurrency = 100; });
        await a.WaitForModelAsync(model, TimeSpan.FromSeconds(20));
        await Eventually.UntilAsync(() => agent.App.ConnectedCount == 1, TimeSpan.FromSeconds(10), "the agent is attached to silo B");

        var load = new LoadRecorder();
        using var stop = new CancellationTokenSource();
        using var statusClient = a.CreateClient();
        try
        {
        var running = load.RunAsync(a.CreateClient, model, workers: 8, stop.Token);
        await Eventually.UntilAsync(() => load.Results.Count(r => r.Outcome == LoadOutcome.Succeeded) >= 20, TimeSpan.FromSeconds(20), "load is flowing");

        var siloB = Assert.Single(agent.App.ConnectedSilos);
        var killedAt = load.Now;
        b.Process.KillHard();
        await Eventually.UntilAsync(
            () => agent.App.ConnectedCount == 1 && agent.App.ConnectedSilos is [var silo] && silo != siloB,
            TimeSpan.FromSeconds(5),
            "the agent reconnected to a live silo");
        var reconnected = load.Now - killedAt;
        await Eventually.UntilAsync(
            async () => (await statusClient.GetStringAsync(new Uri("/status", UriKind.Relative))).Contains("\"status\":\"Dead\"", StringComparison.OrdinalIgnoreCase),
            TimeSpan.FromSeconds(15),
            "membership declared silo B dead");
        var declaredDead = load.Now;
        await Eventually.UntilAsync(
            () => load.Results.Any(r => r.Sent > killedAt && r.Outcome == LoadOutcome.Succeeded),
            TimeSpan.FromSeconds(15),
            "a request sent after the kill succeeded");
        var servedAgain = load.Results.Where(r => r.Sent > killedAt && r.Outcome == LoadOutcome.Succeeded).Min(r => r.Ended) - killedAt;
        await Eventually.UntilAsync(() => load.Now - declaredDead > TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(20), "load ran on after the declaration");
        await stop.CancelAsync();
        await running;

        output.WriteLine($"killed at {killedAt}; agent reconnected after {reconnected.TotalMilliseconds:0} ms; B declared dead after {(declaredDead - killedAt).TotalMilliseconds:0} ms; first answer sent after the kill ended {servedAgain.TotalMilliseconds:0} ms after it");
        output.WriteLine(load.Summary());
        Assert.DoesNotContain(load.Results, r => r.Outcome == LoadOutcome.Hung);
        Assert.DoesNotContain(load.Results, r => r.Outcome == LoadOutcome.Broken);
        Assert.All(load.Results.Where(r => r.Sent > declaredDead), r => Assert.Equal(LoadOutcome.Succeeded, r.Outcome));
        // Membership takes 2.5-7 s to declare B dead (probes on a loaded machine); after that, service resumes at once.
        Assert.True(servedAgain < declaredDead - killedAt + TimeSpan.FromSeconds(3),
            $"served again after {servedAgain.TotalSeconds:0.0} s, B declared dead after {(declaredDead - killedAt).TotalSeconds:0.0} s");
        }
        finally
        {
            await stop.CancelAsync();
            output.WriteLine(load.Summary());
            output.WriteLine("--- silo A ---\n" + a.Process.Output + "\n--- silo C ---\n" + c.Process.Output + "\n--- agent ---\n" + agent.Log.All);
        }
    }

    [Fact]
    public async Task SiloB_StoppedGracefully_FinishesItsStreamAndTheAgentMovesOn()
    {
        var silos = await fixture.StartClusterAsync();
        await using var a = silos[0];
        await using var b = silos[1];
        await using var c = silos[2];
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = TestAgent.Start([b.WsUrl, c.WsUrl], upstream.Url, o => o.Connections = 1);
        await a.WaitForModelAsync(model, TimeSpan.FromSeconds(20));

        using var client = a.CreateClient();
        using var response = await ChatCalls.StreamAsync(client, model, tokens: 30, delayMs: 100);
        var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("tok0", await reader.NextDataAsync(), StringComparison.Ordinal);

        b.Process.Terminate();
        try
        {
        using (var probe = b.CreateClient())
        {
            await Eventually.UntilAsync(
                async () =>
                {
                    try
                    {
                        return (await probe.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode == HttpStatusCode.ServiceUnavailable;
                    }
                    catch (HttpRequestException)
                    {
                        return true;
                    }
                },
                TimeSpan.FromSeconds(5),
                "silo B reports not ready while draining");
        }

        var rest = await reader.ReadAllDataAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("[DONE]", rest[^1]);
        Assert.Equal(29, rest.Count(e => e.Contains("\"tok", StringComparison.Ordinal)));
        await Eventually.UntilAsync(() => agent.App.ConnectedSilos.Count == 1 && agent.App.ConnectedCount == 1, TimeSpan.FromSeconds(10), "the agent moved to silo C");
        await b.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
        }
        finally
        {
            output.WriteLine("--- silo B ---\n" + b.Process.Output + "\n--- agent ---\n" + agent.Log.All);
        }
    }
}
