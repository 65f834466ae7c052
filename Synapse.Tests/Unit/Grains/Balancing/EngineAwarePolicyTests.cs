using Synapse.Grains.Agents;
using Synapse.Grains.Balancing;
using Synapse.Grains.Models;

namespace Synapse.Tests.Unit.Grains.Balancing;

/// <summary>A request goes where its engine starts it soonest; without engine signals, power of two choices.</summary>
[Trait("Category", "Unit")]
public sealed class EngineAwarePolicyTests
{
    private readonly EngineAwarePolicy _policy = new();
    private DateTimeOffset _clock = DateTimeOffset.UtcNow;

    private ModelInstance Reporting(string agentId, int running, int waiting, int inFlight = 0, int? slots = null, double? kv = null)
    {
        var instance = Instances.With(agentId, inFlight, capacity: 16);
        Report(instance, running, waiting, slots, kv);
        return instance;
    }

    private void Report(ModelInstance instance, int running, int waiting, int? slots = null, double? kv = null)
    {
        _clock = _clock.AddMilliseconds(1);
        instance.Engine.Update(new EngineLoad { Model = "m", Running = running, Waiting = waiting, Capacity = slots, KvUsage = kv, IntervalMs = 500, ReceivedAt = _clock }, _clock);
    }

    /// <summary>Completions <paramref name="intervalMs"/> apart, as if the engine finished them at that pace.</summary>
    private static void Finished(ModelInstance instance, int count, long intervalMs)
    {
        var tick = Environment.TickCount64 - (count * intervalMs);
        for (var i = 0; i < count; i++)
        {
            instance.Engine.Started();
            instance.Engine.Ended(tick += intervalMs);
        }
    }

    [Fact]
    public void Name_IsTheConfiguredName()
    {
        Assert.Equal(LoadBalancingPolicies.EngineAware, _policy.Name);
    }

    [Fact]
    public void NoSignals_IsPowerOfTwoChoices()
    {
        var busy = Instances.With("busy", inFlight: 3);
        var idle = Instances.With("idle", inFlight: 1);

        Assert.Equal(500, Instances.Tally(_policy, [busy, idle], Instances.Seeded(1), 500)["idle"]);
    }

    [Fact]
    public void EngineWithAQueue_LosesToOneWithRoom_EvenWithFewerInFlightHere()
    {
        // Other clients fill the first engine: the gateway's own counts cannot see that.
        var queued = Reporting("queued", running: 4, waiting: 30, inFlight: 0, slots: 4);
        var free = Reporting("free", running: 2, waiting: 0, inFlight: 3, slots: 4);

        Assert.Equal(200, Instances.Tally(_policy, [queued, free], Instances.Seeded(2), 200)["free"]);
    }

    [Fact]
    public void BothQueued_TheQueueThatDrainsFirstWins_NotTheShorter()
    {
        // 6 waiting on an engine finishing a request every 10 ms start before 2 waiting on one taking 50 ms.
        var fast = Reporting("fast", running: 4, waiting: 6, slots: 4);
        var slow = Reporting("slow", running: 4, waiting: 2, slots: 4);
        Finished(fast, 8, 10);
        Finished(slow, 8, 50);

        Assert.Same(fast, _policy.Pick([slow, fast], Instances.Seeded(3)));
    }

    [Fact]
    public void PaceUnknown_QueuesCompareRelativeToEngineSize()
    {
        var big = Reporting("big", running: 16, waiting: 6, slots: 16);
        var small = Reporting("small", running: 2, waiting: 3, slots: 2);

        Assert.Same(big, _policy.Pick([small, big], Instances.Seeded(4)));
    }

    [Fact]
    public void RequestsSentSinceTheReading_CountUntilTheNextOne()
    {
        var a = Reporting("a", running: 0, waiting: 0, slots: 2);
        var b = Reporting("b", running: 0, waiting: 0, slots: 2);
        var state = Instances.Seeded(5);

        // Six requests in one reading interval: no engine gets more than its share queued behind the reading.
        var tally = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0 };
        for (var i = 0; i < 6; i++)
        {
            var picked = _policy.Pick([a, b], state);
            picked.InFlight++;
            picked.Engine.Started();
            tally[picked.AgentId]++;
        }

        Assert.Equal((3, 3), (tally["a"], tally["b"]));
        Assert.Equal((1, 1), (a.Engine.Waiting, b.Engine.Waiting));
    }

    [Fact]
    public void NewReading_ReplacesTheEstimate_AndAnOlderOneIsIgnored()
    {
        var instance = Reporting("a", running: 4, waiting: 5, slots: 4);
        var older = _clock.AddSeconds(-1);
        instance.Engine.Started();
        Assert.Equal(6, instance.Engine.Waiting);

        Assert.False(instance.Engine.Update(null, older));
        Assert.Equal(6, instance.Engine.Waiting);

        Report(instance, running: 4, waiting: 1, slots: 4);
        Assert.Equal(1, instance.Engine.Waiting);
    }

    [Fact]
    public void SignalGone_InstanceCountsAsUnknown_AndPolicyFallsBack()
    {
        var a = Reporting("a", running: 4, waiting: 40, slots: 4);
        var b = Instances.With("b", inFlight: 1, capacity: 16);
        Assert.Same(b, _policy.Pick([a, b], Instances.Seeded(6)));

        _clock = _clock.AddSeconds(1);
        a.Engine.Update(null, _clock);

        // Power of two choices on in-flight: a has none, b has one.
        Assert.Same(a, _policy.Pick([a, b], Instances.Seeded(6)));
    }

    [Fact]
    public void EveryEngineWithRoom_TheLessLoadedHereWins_TiesAtRandom()
    {
        var a = Reporting("a", running: 1, waiting: 0, inFlight: 1, slots: 8);
        var b = Reporting("b", running: 1, waiting: 0, inFlight: 1, slots: 8);
        var c = Reporting("c", running: 1, waiting: 0, inFlight: 5, slots: 8);

        var tally = Instances.Tally(_policy, [a, b, c], Instances.Seeded(7), 1000);

        Assert.Equal(0, tally["c"]);
        Assert.InRange(tally["a"], 400, 600);
    }

    [Fact]
    public void BothQueuedAlike_TiesGoAtRandom_NotToTheEngineWithFewerInFlight()
    {
        // Waits within 10%: 4 waiting at 30 ms a completion (150 ms) and 14 at 10 ms (150 ms).
        var slow = Reporting("slow", running: 4, waiting: 4, inFlight: 8, slots: 4);
        var fast = Reporting("fast", running: 4, waiting: 14, inFlight: 18, slots: 4);
        Finished(slow, 8, 30);
        Finished(fast, 8, 10);

        var tally = Instances.Tally(_policy, [slow, fast], Instances.Seeded(8), 1000);

        Assert.InRange(tally["slow"], 400, 600);
    }

    [Fact]
    public void StartsLater_HomeWithAQueueWhileAnotherHasRoom_IsTrue_AndWithoutSignalsFalse()
    {
        var queued = Reporting("queued", running: 4, waiting: 3, slots: 4);
        var free = Reporting("free", running: 1, waiting: 0, slots: 4);

        Assert.True(EngineAwarePolicy.StartsLater(queued, [queued, free]));
        Assert.False(EngineAwarePolicy.StartsLater(free, [queued, free]));
        Assert.False(EngineAwarePolicy.StartsLater(Instances.With("a", 3), [Instances.With("a", 3), Instances.With("b", 0)]));
    }

    [Fact]
    public void StartsLater_SlowerEngine_IsTrue_OneWithinTenPercentFalse()
    {
        var slow = Reporting("slow", running: 4, waiting: 3, slots: 4);
        var fast = Reporting("fast", running: 4, waiting: 3, slots: 4);
        Finished(slow, 8, 30);
        Finished(fast, 8, 10);

        Assert.True(EngineAwarePolicy.StartsLater(slow, [slow, fast]));

        var nearlyAsFast = Reporting("near", running: 4, waiting: 3, slots: 4);
        Finished(nearlyAsFast, 8, 11);
        Assert.False(EngineAwarePolicy.StartsLater(nearlyAsFast, [nearlyAsFast, fast]));
    }
}
