using Synapse.Grains.Balancing;
using Synapse.Grains.Models;

namespace Synapse.Tests.Unit.Grains.Balancing;

/// <summary>Consistent hashing with bounded loads: stable homes, even spread, no instance over its bound.</summary>
[Trait("Category", "Unit")]
public sealed class AffinityRingTests
{
    private const double Bound = 1.25;

    private static (AffinityRing Ring, ModelInstance[] Instances) Ring(int count)
    {
        var instances = Enumerable.Range(0, count).Select(i => Instances.With($"agent-{i}", inFlight: 0, capacity: 8)).ToArray();
        var ring = new AffinityRing();
        ring.Rebuild(instances.Select(i => i.AgentId));
        return (ring, instances);
    }

    private static ulong KeyOf(int conversation) => System.IO.Hashing.XxHash3.HashToUInt64(BitConverter.GetBytes(conversation));

    [Fact]
    public void SameKey_IdleInstances_AlwaysTheSameInstance()
    {
        var (ring, instances) = Ring(4);

        for (var key = 0; key < 100; key++)
        {
            var home = ring.Pick(KeyOf(key), instances, Bound, 0, 32);
            Assert.Same(home, ring.Pick(KeyOf(key), instances, Bound, 0, 32));
        }
    }

    [Fact]
    public void ManyKeys_SpreadOverEveryInstance()
    {
        var (ring, instances) = Ring(4);

        var counts = Enumerable.Range(0, 4000).GroupBy(k => ring.Pick(KeyOf(k), instances, Bound, 0, 32)!.AgentId).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 600, 1400));
    }

    [Fact]
    public void InstanceLeaving_MovesOnlyTheKeysItHeld()
    {
        var (ring, instances) = Ring(4);
        var before = Enumerable.Range(0, 1000).Select(k => ring.Pick(KeyOf(k), instances, Bound, 0, 32)!.AgentId).ToArray();

        ring.Rebuild(instances.Take(3).Select(i => i.AgentId));
        var after = Enumerable.Range(0, 1000).Select(k => ring.Pick(KeyOf(k), instances[..3], Bound, 0, 24)!.AgentId).ToArray();

        for (var k = 0; k < before.Length; k++)
        {
            if (before[k] != "agent-3")
            {
                Assert.Equal(before[k], after[k]);
            }
        }
    }

    [Fact]
    public void HomeOverItsBound_SpillsToTheNextInstance_AndComesBackWhenItCalms()
    {
        var (ring, instances) = Ring(4);
        var home = ring.Pick(KeyOf(7), instances, Bound, 0, 32)!;

        // 8 in flight on the home, 8 in total: its bound is ceil(1.25 * 9 / 4) = 3.
        home.InFlight = 8;
        var elsewhere = ring.Pick(KeyOf(7), instances, Bound, 8, 32)!;
        Assert.NotSame(home, elsewhere);
        Assert.Same(elsewhere, ring.Pick(KeyOf(7), instances, Bound, 8, 32));

        home.InFlight = 0;
        Assert.Same(home, ring.Pick(KeyOf(7), instances, Bound, 0, 32));
    }

    [Fact]
    public void EveryCandidateOverItsBound_IsNoPick()
    {
        var (ring, instances) = Ring(2);
        instances[1].InFlight = 7;

        // The idle instance cannot take it (cooling down, say); the other's bound is ceil(1.25 * 8 / 2) = 5 and it
        // holds 7: affinity gives way and the policy decides.
        Assert.Null(ring.Pick(KeyOf(1), [instances[1]], Bound, 7, 16));
    }

    [Fact]
    public void EngineQueue_CountsAsLoad()
    {
        var (ring, instances) = Ring(2);
        var home = ring.Pick(KeyOf(3), instances, Bound, 0, 16)!;

        home.Engine.Update(new Synapse.Grains.Agents.EngineLoad { Model = "m", Running = 4, Waiting = 20, IntervalMs = 500, ReceivedAt = DateTimeOffset.UtcNow }, DateTimeOffset.UtcNow);

        Assert.NotSame(home, ring.Pick(KeyOf(3), instances, Bound, home.Occupancy, 16));
    }

    [Fact]
    public void OnlyCandidates_ArePicked()
    {
        var (ring, instances) = Ring(4);

        for (var key = 0; key < 200; key++)
        {
            Assert.Same(instances[2], ring.Pick(KeyOf(key), [instances[2]], Bound, 0, 32));
        }
    }

    [Fact]
    public void ConversationThatSpilledOver_StaysWhereItsPrefixNowIs_WhileThatIsWithinBounds()
    {
        var (ring, instances) = Ring(4);
        var home = ring.Pick(KeyOf(9), instances, Bound, 0, 32)!;
        home.InFlight = 8;
        var spilled = ring.Pick(KeyOf(9), instances, Bound, 8, 32)!;
        ring.Remember(KeyOf(9), spilled.AgentId);

        home.InFlight = 0;
        Assert.Same(spilled, ring.Pick(KeyOf(9), instances, Bound, 0, 32));

        // Its new instance busy beyond the bound: the ring decides again, and the home is free.
        spilled.InFlight = 8;
        Assert.Same(home, ring.Pick(KeyOf(9), instances, Bound, 8, 32));
    }
}
