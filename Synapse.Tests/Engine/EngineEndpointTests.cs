using System.Diagnostics;
using Synapse.Client.Engine;
using Synapse.Client.Hosting;
using Synapse.Client.Upstream;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Engine;

/// <summary>The agent's bounded reads of an engine's endpoints, against a fake engine on a real port (no gateway).</summary>
[Trait("Category", "EndToEnd")]
public sealed class EngineEndpointTests
{
    // Generous: the machine running the tests is busy; the stalled-body test has its own short limit.
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task ReadLines_HundredMegabyteBody_StopsAtTheCapAtOnce()
    {
        await using var upstream = await StartAsync(FakeEngineBody.Huge);
        using var client = new UpstreamClient(new AgentOptions { Upstream = new Uri(upstream.Url + "/v1") });
        var parser = new EngineMetricsParser();

        var elapsed = Stopwatch.StartNew();
        var problem = await new EngineEndpoint(client, TimeSpan.FromSeconds(10)).ReadLinesAsync("/metrics", parser, CancellationToken.None);

        Assert.Equal("the body is larger than 2048 KiB", problem);
        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(3), $"took {elapsed.ElapsedMilliseconds} ms");
        Assert.True(parser.Kind == Synapse.Client.Engine.EngineKind.Vllm && parser.FoundAny, "the lines before the cap were read");
    }

    [Fact]
    public async Task ReadLines_StalledBody_GivesUpAtTheTimeLimit()
    {
        await using var upstream = await StartAsync(FakeEngineBody.Stall);
        using var client = new UpstreamClient(new AgentOptions { Upstream = new Uri(upstream.Url) });

        var limit = TimeSpan.FromMilliseconds(400);

        var elapsed = Stopwatch.StartNew();
        var problem = await new EngineEndpoint(client, limit).ReadLinesAsync("/metrics", new EngineMetricsParser(), CancellationToken.None);

        Assert.Equal("no whole answer within 400 ms", problem);
        Assert.InRange(elapsed.Elapsed, limit, limit + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task ReadLines_UpstreamGone_SaysSoWithoutThrowing()
    {
        using var client = new UpstreamClient(new AgentOptions { Upstream = new Uri($"http://127.0.0.1:{FreePorts.Next()}") });

        var problem = await new EngineEndpoint(client, ReadTimeout).ReadLinesAsync("/metrics", new EngineMetricsParser(), CancellationToken.None);

        Assert.Equal("the upstream refuses connections", problem);
    }

    [Fact]
    public async Task Detect_LlamaCppWithoutMetrics_FallsBackToSlotsWithItsCapacity()
    {
        await using var upstream = await FakeUpstream.StartAsync("llama", "m");
        upstream.Engine.Kind = FakeEngineKind.LlamaCppSlots;
        upstream.Engine.Slots = 6;
        upstream.Engine.SetLoad("m", 2, 0, 0);
        using var client = new UpstreamClient(new AgentOptions { Upstream = new Uri(upstream.Url) });
        var reader = new EngineReader(new EngineEndpoint(client, ReadTimeout));

        var attempt = await reader.DetectAsync(EngineReading.None, CancellationToken.None);

        Assert.Equal(EngineKind.LlamaCppSlots, reader.Kind);
        Assert.Equal(6, attempt.Reading!.Capacity);
        Assert.Equal([new EngineModelLoad(null, 2, null, null)], attempt.Reading.Models);
    }

    [Fact]
    public async Task Read_SteadyEngine_GivesBackThePreviousReadingItself()
    {
        await using var upstream = await StartAsync(FakeEngineBody.Good);
        using var client = new UpstreamClient(new AgentOptions { Upstream = new Uri(upstream.Url) });
        var reader = new EngineReader(new EngineEndpoint(client, ReadTimeout));
        var first = (await reader.DetectAsync(EngineReading.None, CancellationToken.None)).Reading!;

        var second = (await reader.ReadAsync(first, CancellationToken.None)).Reading;

        Assert.Same(first, second);
    }

    private static async Task<FakeUpstream> StartAsync(FakeEngineBody body)
    {
        var upstream = await FakeUpstream.StartAsync("vllm", "m");
        upstream.Engine.Kind = FakeEngineKind.Vllm;
        upstream.Engine.Body = body;
        upstream.Engine.SetLoad("m", 1, 2, 0.5);
        return upstream;
    }
}
