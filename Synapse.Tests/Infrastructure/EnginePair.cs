using System.Diagnostics;
using Synapse.Grains.Agents;

namespace Synapse.Tests.Infrastructure;

/// <summary>
/// Two fake vLLM engines serving one model, each behind its own real agent, idle and reporting so; and ways to see
/// where calls go and what the model grain knows of the engines.
/// </summary>
public sealed class EnginePair : IAsyncDisposable
{
    private readonly TestGateway _gateway;
    private readonly TestAgent[] _agents;

    private EnginePair(TestGateway gateway, string model, FakeUpstream first, FakeUpstream second, TestAgent[] agents)
    {
        _gateway = gateway;
        Model = model;
        First = first;
        Second = second;
        _agents = agents;
    }

    public string Model { get; }

    public FakeUpstream First { get; }

    public FakeUpstream Second { get; }

    public static async Task<EnginePair> StartAsync(TestGateway gateway)
    {
        var model = GatewayFixture.UniqueModel("engine");
        var first = await FakeUpstream.StartAsync("engine-1", model);
        var second = await FakeUpstream.StartAsync("engine-2", model);
        foreach (var upstream in new[] { first, second })
        {
            upstream.Engine.Kind = FakeEngineKind.Vllm;
            upstream.Engine.SetLoad(model, running: 0, waiting: 0, kvUsage: 0.1);
        }

        var agents = new[] { TestAgent.Start(gateway.WsUrl, first), TestAgent.Start(gateway.WsUrl, second) };
        var pair = new EnginePair(gateway, model, first, second, agents);
        await TestAgent.WaitForModelAsync(gateway, model, 2);
        await pair.GrainSeesAsync(first, l => l.Waiting == 0);
        await pair.GrainSeesAsync(second, l => l.Waiting == 0);
        return pair;
    }

    /// <summary>The name of the agent in front of <paramref name="upstream"/>.</summary>
    public string AgentOf(FakeUpstream upstream) => _agents[upstream == First ? 0 : 1].Options.Name;

    /// <summary>Waits until the model grain holds a reading of <paramref name="upstream"/>'s engine that satisfies <paramref name="condition"/>.</summary>
    public Task GrainSeesAsync(FakeUpstream upstream, Func<EngineLoad, bool> condition) =>
        Eventually.UntilAsync(
            async () => (await _gateway.SnapshotAsync(Model)).Instances.FirstOrDefault(i => i.Name == AgentOf(upstream))?.Engine is { } load && condition(load),
            TimeSpan.FromSeconds(10),
            $"the model grain sees {upstream.Name}'s engine reading");

    /// <summary>Sends <paramref name="count"/> calls one after another; how many each engine served.</summary>
    public async Task<Dictionary<FakeUpstream, int>> SendAsync(HttpClient client, int count)
    {
        var before = (First.Requests.Count, Second.Requests.Count);
        for (var i = 0; i < count; i++)
        {
            await ChatCalls.PostAsync(client, Model);
        }

        return new Dictionary<FakeUpstream, int>
        {
            [First] = First.Requests.Count - before.Item1,
            [Second] = Second.Requests.Count - before.Item2,
        };
    }

    /// <summary>
    /// Sends calls one after another until <paramref name="length"/> in a row went to <paramref name="target"/>; the
    /// time on <paramref name="clock"/> when the first of them was sent.
    /// </summary>
    public async Task<TimeSpan> StreakOnAsync(HttpClient client, FakeUpstream target, int length, Stopwatch clock, TimeSpan deadline)
    {
        var streak = 0;
        var streakStart = TimeSpan.Zero;
        while (streak < length)
        {
            Assert.True(clock.Elapsed < deadline, $"no {length} calls in a row went to {target.Name} within {deadline}");
            var sentAt = clock.Elapsed;
            var served = await SendAsync(client, 1);
            if (served[target] == 1)
            {
                streakStart = streak++ == 0 ? sentAt : streakStart;
            }
            else
            {
                streak = 0;
            }
        }

        return streakStart;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }

        await First.DisposeAsync();
        await Second.DisposeAsync();
    }
}
