using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Synapse.Grains.Agents;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Silo.Agents;
using Synapse.Tests.Hostile;
using Synapse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Synapse.Tests.EndToEnd;

/// <summary>
/// Engine signals end to end: a real agent reads a fake engine's real <c>/metrics</c> format and the real gateway
/// receives the load per model; hostile engines and old peers on either side.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(GatewayCollection.Name)]
public sealed class EngineSignalsTests(GatewayFixture fixture, ITestOutputHelper output)
{
    private const int IntervalMs = 500;

    private TestGateway Gateway => fixture.Gateway;

    public static TheoryData<FakeEngineKind, string, int, int?, double?, int?> Engines => new()
    {
        { FakeEngineKind.Vllm, "vllm", 3, 7, 0.42, null },
        { FakeEngineKind.VllmV0, "vllm", 3, 7, 0.42, null },
        { FakeEngineKind.Sglang, "sglang", 3, 7, 0.42, null },
        { FakeEngineKind.LlamaCpp, "llama.cpp", 3, 7, null, 4 },
        { FakeEngineKind.LlamaCppWithKv, "llama.cpp", 3, 7, 0.42, 4 },
        { FakeEngineKind.LlamaCppSlots, "llama.cpp", 3, null, null, 4 },
    };

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Agent_EachEnginesMetrics_ReachTheGatewayPerModel(FakeEngineKind kind, string engine, int running, int? waiting, double? kv, int? capacity)
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        upstream.Engine.Kind = kind;
        upstream.Engine.SetLoad(model, 3, 7, 0.42);

        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        var load = await WaitForSignalAsync(agent, model, l => l is not null);
        Assert.Equal((engine, running, waiting, kv, capacity, IntervalMs), (load!.Engine, load.Running, load.Waiting, load.KvUsage, load.Capacity, load.IntervalMs));
        Assert.Single(agent.Log.Lines, l => l.Contains($"Reading {engine}'s load", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Agent_EngineQueueGrows_TheGatewayKnowsWithinASecond()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await VllmAsync(model, running: 2, waiting: 0, kv: 0.1);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await WaitForSignalAsync(agent, model, l => l?.Waiting == 0);

        var changed = Stopwatch.StartNew();
        upstream.Engine.SetLoad(model, 8, 25, 0.93);
        var load = await WaitForSignalAsync(agent, model, l => l?.Waiting == 25);
        changed.Stop();

        output.WriteLine($"the gateway knew {changed.ElapsedMilliseconds} ms after the engine's queue changed");
        Assert.True(changed.Elapsed < TimeSpan.FromSeconds(1), $"the gateway knew after {changed.ElapsedMilliseconds} ms");
        Assert.Equal((8, 0.93), (load!.Running, load.KvUsage));
    }

    [Fact]
    public async Task Agent_EngineLoadUnchanged_SendsNoFrame()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await VllmAsync(model, running: 1, waiting: 4, kv: 0.3);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await WaitForSignalAsync(agent, model, l => l?.Waiting == 4);
        var state = Session(agent)!.EngineSignals;
        var received = state.ReceivedTick;
        var reads = upstream.Engine.MetricsRequests;

        // Six more readings of the same values (three seconds): the agent read them, and sent nothing.
        await Eventually.UntilAsync(() => upstream.Engine.MetricsRequests >= reads + 6, TimeSpan.FromSeconds(10), "the agent keeps reading");

        Assert.Equal(received, state.ReceivedTick);
        Assert.True(state.TryGet(model, out var load) && load.Waiting == 4, "the last values stay current while the engine is steady");
    }

    [Fact]
    public async Task Agent_IntervalZero_NeitherReadsNorSends()
    {
        var off = GatewayFixture.UniqueModel();
        var on = GatewayFixture.UniqueModel();
        await using var offUpstream = await VllmAsync(off, running: 1, waiting: 2, kv: 0.5);
        await using var onUpstream = await VllmAsync(on, running: 1, waiting: 2, kv: 0.5);
        await using var silent = await TestAgent.StartServingAsync(Gateway, offUpstream, off, o => o.EngineMetricsInterval = TimeSpan.Zero);

        // An agent with signals on, started after, has its signals through: the silent one had as long to send.
        await using var control = await TestAgent.StartServingAsync(Gateway, onUpstream, on);
        await WaitForSignalAsync(control, on, l => l is not null);

        Assert.Equal(0, offUpstream.Engine.MetricsRequests);
        Assert.False(Session(silent)!.EngineSignals.HasSignals);
        Assert.Contains("Engine signals are off", silent.Log.All, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(FakeEngineBody.Garbage)]
    [InlineData(FakeEngineBody.Huge)]
    [InlineData(FakeEngineBody.NaN)]
    [InlineData(FakeEngineBody.Negative)]
    [InlineData(FakeEngineBody.Stall)]
    [InlineData(FakeEngineBody.ServerError)]
    public async Task Agent_HostileMetrics_AreIgnoredWithOneLogLineWhileRequestsFlow(FakeEngineBody hostile)
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await VllmAsync(model, running: 1, waiting: 2, kv: 0.5);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await WaitForSignalAsync(agent, model, l => l is not null);
        using var client = Gateway.CreateClient();

        upstream.Engine.Body = hostile;
        var reads = upstream.Engine.MetricsRequests;
        await WaitForSignalAsync(agent, model, l => l is null);
        while (upstream.Engine.MetricsRequests < reads + 8)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
            await Task.Delay(50);
        }

        Assert.Single(agent.Log.Lines, l => l.Contains("Ignoring the engine metrics", StringComparison.Ordinal));
        Assert.DoesNotContain(agent.Log.Lines, l => l.Contains("xxxxxxxx", StringComparison.Ordinal));
        Assert.Equal(1, agent.App.ConnectedCount);
        if (hostile == FakeEngineBody.Huge)
        {
            Assert.Contains("larger than 2048 KiB", agent.Log.All, StringComparison.Ordinal);
        }

        upstream.Engine.Body = FakeEngineBody.Good;
        await WaitForSignalAsync(agent, model, l => l?.Waiting == 2);
        Assert.Equal(2, agent.Log.Lines.Count(l => l.Contains("Reading vllm's load", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Agent_EngineStopsAnswering_SignalIsAbsentAfterThreeIntervals()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await VllmAsync(model, running: 1, waiting: 2, kv: 0.5);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await WaitForSignalAsync(agent, model, l => l is not null);

        upstream.Engine.Body = FakeEngineBody.Stall;
        var stalled = Stopwatch.StartNew();
        await WaitForSignalAsync(agent, model, l => l is null);
        stalled.Stop();
        output.WriteLine($"the signal was absent {stalled.ElapsedMilliseconds} ms after the engine stalled");

        // The last good reading came at most one interval before the stall; it counts for 3 intervals, then goes.
        Assert.InRange(stalled.Elapsed, TimeSpan.FromMilliseconds(2 * IntervalMs), TimeSpan.FromMilliseconds((3 * IntervalMs) + 1500));
        using var client = Gateway.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
    }

    [Fact]
    public async Task Agent_UpstreamWithoutMetrics_IsAskedRarelyAndSaysSoOnce()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("ollama-like", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await Eventually.UntilAsync(() => agent.Log.All.Contains("has no engine metrics", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the agent says it found no engine");

        // Six intervals: an agent reading every interval would have asked six more times.
        await Task.Delay(6 * IntervalMs);

        Assert.Equal(1, upstream.Engine.MetricsRequests);
        Assert.Equal(1, upstream.Engine.SlotsRequests);
        Assert.Single(agent.Log.Lines, l => l.Contains("has no engine metrics", StringComparison.Ordinal));
        Assert.False(Session(agent)!.EngineSignals.HasSignals);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public async Task Agent_GatewayWelcomeVersion_DecidesWhetherSignalsAreSent(int gatewayProtocol, bool expectSignals)
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await VllmAsync(model, running: 1, waiting: 2, kv: 0.5);
        await using var gateway = await FakeGateway.StartAsync();
        await using var agent = TestAgent.Start(gateway.WsUrl, upstream);
        var socket = await gateway.AcceptAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ProtocolVersion.Current, (await socket.ReceiveHelloAsync(TimeSpan.FromSeconds(10))).ProtocolVersion);

        await socket.WelcomeAsync(protocolVersion: gatewayProtocol);
        var signals = await NextSignalsFrameAsync(socket, TimeSpan.FromSeconds(3));

        Assert.True(upstream.Engine.MetricsRequests >= (expectSignals ? 1 : 4), "the agent read its engine meanwhile");
        if (expectSignals)
        {
            var message = FrameCodec.ReadJson(signals!, ProtocolJsonContext.Default.EngineSignalsMessage);
            Assert.Equal(new ModelEngineSignals { Model = model, Running = 1, Waiting = 2, KvUsage = 0.5 }, Assert.Single(message.Models));
        }
        else
        {
            Assert.Null(signals);
        }
    }

    [Fact]
    public async Task OldAgent_Protocol1_IsServedWithoutSignals()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await VllmAsync(model, running: 1, waiting: 2, kv: 0.5);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o => o.ProtocolVersion = 1);
        using var client = Gateway.CreateClient();

        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
        await Eventually.UntilAsync(() => upstream.Engine.MetricsRequests >= 3, TimeSpan.FromSeconds(10), "the agent reads its engine anyway");
        Assert.False(Session(agent)!.EngineSignals.HasSignals);
    }

    [Fact]
    public async Task Signals_AreShownInStatusAndMetrics()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await VllmAsync(model, running: 5, waiting: 11, kv: 0.75);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await WaitForSignalAsync(agent, model, l => l?.Waiting == 11);
        using var client = Gateway.CreateClient();

        JsonElement engine = default;
        await Eventually.UntilAsync(
            async () =>
            {
                using var status = JsonDocument.Parse(await client.GetStringAsync(new Uri("/status", UriKind.Relative)));
                var instance = status.RootElement.GetProperty("models").EnumerateArray()
                    .Where(m => m.GetProperty("id").GetString() == model)
                    .SelectMany(m => m.GetProperty("instances").EnumerateArray())
                    .FirstOrDefault();
                if (instance.ValueKind != JsonValueKind.Object || !instance.TryGetProperty("engine", out var e))
                {
                    return false;
                }

                engine = e.Clone();
                return true;
            },
            TimeSpan.FromSeconds(10),
            "/status shows the instance's engine signals");
        Assert.Equal(("vllm", 5, 11, 0.75), (engine.GetProperty("engine").GetString(), engine.GetProperty("running").GetInt32(), engine.GetProperty("waiting").GetInt32(), engine.GetProperty("kvUsage").GetDouble()));

        var scrape = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var lines = scrape.Split('\n').Where(l => l.Contains(model, StringComparison.Ordinal)).ToArray();
        output.WriteLine(string.Join('\n', lines.Where(l => l.StartsWith("synapse_engine", StringComparison.Ordinal))));
        Assert.Contains(lines, l => l.StartsWith("synapse_engine_queue", StringComparison.Ordinal) && l.Contains($"synapse_agent_name=\"{agent.Options.Name}\"", StringComparison.Ordinal) && l.EndsWith(" 11", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("synapse_engine_running", StringComparison.Ordinal) && l.EndsWith(" 5", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("synapse_engine_kv_usage", StringComparison.Ordinal) && l.EndsWith(" 0.75", StringComparison.Ordinal));
    }

    public static TheoryData<string, int, string> BrokenFrames => new()
    {
        { "a model it does not serve", ProtocolVersion.Current, """{"intervalMs":500,"models":[{"model":"someone-else","running":1}]}""" },
        { "KV usage above 1", ProtocolVersion.Current, """{"intervalMs":500,"models":[{"model":"MODEL","running":1,"kvUsage":1.5}]}""" },
        { "a negative queue", ProtocolVersion.Current, """{"intervalMs":500,"models":[{"model":"MODEL","running":1,"waiting":-2}]}""" },
        { "NaN", ProtocolVersion.Current, """{"intervalMs":500,"models":[{"model":"MODEL","running":1,"kvUsage":NaN}]}""" },
        { "not JSON", ProtocolVersion.Current, "{{{" },
        { "a protocol-1 hello", 1, """{"intervalMs":500,"models":[{"model":"MODEL","running":1}]}""" },
    };

    [Theory]
    [MemberData(nameof(BrokenFrames))]
    public async Task Gateway_SignalsFrameBreakingTheRules_ClosesThatSocketWithProtocolError(string what, int helloProtocol, string json)
    {
        var model = GatewayFixture.UniqueModel();
        await using var raw = await RawAgent.ConnectAsync(Gateway.WsUrl);
        await raw.SendHelloAsync(RawAgent.Hello("raw-signals-" + Guid.NewGuid().ToString("N")[..6], model) with { ProtocolVersion = helloProtocol });
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));

        await raw.SendRawAsync([(byte)FrameType.EngineSignals, .. System.Text.Encoding.UTF8.GetBytes(json.Replace("MODEL", model, StringComparison.Ordinal))]);

        Assert.True(WebSocketCloseStatus.ProtocolError == await raw.WaitForCloseAsync(TimeSpan.FromSeconds(5)), what);
    }

    [Fact]
    public async Task Gateway_ValidSignalsFrame_IsKeptPerModelAndReplacedWhole()
    {
        var model = GatewayFixture.UniqueModel();
        var agentId = "raw-signals-" + Guid.NewGuid().ToString("N")[..6];
        await using var raw = await RawAgent.ConnectAsync(Gateway.WsUrl);
        await raw.SendHelloAsync(RawAgent.Hello(agentId, model));
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));

        await raw.SendAsync(FrameCodec.Json(
            FrameType.EngineSignals,
            new EngineSignalsMessage { IntervalMs = 250, Engine = "sglang", Models = [new ModelEngineSignals { Model = model, Running = 4, Waiting = 9, KvUsage = 0.5, Capacity = 32 }] },
            ProtocolJsonContext.Default.EngineSignalsMessage));
        await Eventually.UntilAsync(() => SessionOf(agentId)?.EngineSignals.HasSignals == true, TimeSpan.FromSeconds(5), "the gateway keeps the signals");
        Assert.True(SessionOf(agentId)!.EngineSignals.TryGet(model, out var load));
        Assert.Equal(("sglang", 4, 9, 0.5, 32, 250), (load.Engine, load.Running, load.Waiting, load.KvUsage, load.Capacity, load.IntervalMs));

        await raw.SendAsync(FrameCodec.Json(FrameType.EngineSignals, new EngineSignalsMessage { IntervalMs = 250, Models = [] }, ProtocolJsonContext.Default.EngineSignalsMessage));
        await Eventually.UntilAsync(() => SessionOf(agentId)?.EngineSignals.HasSignals == false, TimeSpan.FromSeconds(5), "an empty frame withdraws every signal");
        Assert.Equal(WebSocketState.Open, raw.Socket.State);
    }

    private static async Task<FakeUpstream> VllmAsync(string model, int running, int waiting, double kv)
    {
        var upstream = await FakeUpstream.StartAsync("vllm", model);
        upstream.Engine.Kind = FakeEngineKind.Vllm;
        upstream.Engine.SetLoad(model, running, waiting, kv);
        return upstream;
    }

    /// <summary>The next EngineSignals frame the agent sends within <paramref name="within"/>, or null if none.</summary>
    private static async Task<byte[]?> NextSignalsFrameAsync(FakeGatewaySocket socket, TimeSpan within)
    {
        try
        {
            return await socket.ReceiveFrameAsync(FrameType.EngineSignals, within);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private AgentSession? Session(TestAgent agent) => SessionOf(agent.App.AgentId);

    private AgentSession? SessionOf(string agentId) =>
        Gateway.Services.GetRequiredService<AgentSessionRegistry>().Sessions.FirstOrDefault(s => s.AgentId == agentId && s.IsActive);

    private async Task<EngineLoad?> WaitForSignalAsync(TestAgent agent, string model, Func<EngineLoad?, bool> condition)
    {
        EngineLoad? load = null;
        await Eventually.UntilAsync(
            () =>
            {
                load = Session(agent) is { } session && session.EngineSignals.TryGet(model, out var l) ? l : null;
                return Session(agent) is not null && condition(load);
            },
            TimeSpan.FromSeconds(15),
            $"the gateway's engine signal for {model} meets the condition");
        return load;
    }
}
