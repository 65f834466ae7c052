using Synapse.Grains.Agents;

namespace Synapse.Tests.Unit.Grains.Interfaces.Agents;

/// <summary>Agent ids spread over a few identity grains per group, by a hash every silo computes the same.</summary>
[Trait("Category", "Unit")]
public sealed class AgentIdentityKeyTests
{
    [Fact]
    public void For_SameAgent_IsTheSameKeyEveryTime()
    {
        var keys = Enumerable.Range(0, 100).Select(_ => AgentIdentityKey.For("default", "gpu-box-1")).Distinct();

        Assert.Single(keys);
    }

    [Theory]
    [InlineData("a", 3)]
    [InlineData("foobar", 12)]
    [InlineData("host-a", 12)]
    [InlineData("host-A", 4)]
    public void For_KnownIds_LandInTheSameBucketInEveryProcess(string agentId, int bucket)
    {
        // Pinned: unlike string.GetHashCode, the same in every process and every .NET version (FNV-1a 32 of "a" is
        // 0xe40c292c and of "foobar" 0xbf9cf968, then MurmurHash3's finalizer). Silos of two versions must agree.
        Assert.Equal($"tenant/{bucket}", AgentIdentityKey.For("tenant", agentId));
    }

    [Fact]
    public void For_GroupIsThePrefix_AndTheBucketDependsOnTheAgentOnly()
    {
        var inA = AgentIdentityKey.For("group-a", "agent-42");
        var inB = AgentIdentityKey.For("group-b", "agent-42");

        Assert.StartsWith("group-a/", inA, StringComparison.Ordinal);
        Assert.StartsWith("group-b/", inB, StringComparison.Ordinal);
        Assert.Equal(inA["group-a/".Length..], inB["group-b/".Length..]);
    }

    [Fact]
    public void For_ManyAgents_SpreadOverEveryBucketEvenly()
    {
        const int agents = 16_000;
        var perBucket = Enumerable.Range(0, agents)
            .Select(i => AgentIdentityKey.For("g", $"agent-{i}"))
            .GroupBy(k => k)
            .ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(AgentIdentityKey.Buckets, perBucket.Count);
        Assert.All(perBucket.Keys, k => Assert.InRange(int.Parse(k[2..], System.Globalization.CultureInfo.InvariantCulture), 0, AgentIdentityKey.Buckets - 1));
        var expected = agents / AgentIdentityKey.Buckets;
        Assert.All(perBucket.Values, count => Assert.InRange(count, expected * 0.9, expected * 1.1));
    }

    [Fact]
    public void For_AFewSiblingHostsAndRandomIds_UseEveryBucketWithoutPilingUp()
    {
        var random = new Random(16);
        var siblings = Enumerable.Range(0, 100).Select(i => $"gpu-node-{i:00}");
        var generated = Enumerable.Range(0, 1600).Select(_ =>
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            return new Guid(bytes).ToString();
        });

        foreach (var ids in new[] { siblings.ToArray(), generated.ToArray() })
        {
            var perBucket = ids.GroupBy(id => AgentIdentityKey.For("g", id)).Select(g => g.Count()).ToArray();

            Assert.Equal(AgentIdentityKey.Buckets, perBucket.Length);
            Assert.All(perBucket, count => Assert.True(count <= 2 * ids.Length / AgentIdentityKey.Buckets, $"{count} of {ids.Length} agents in one bucket"));
        }
    }
}
