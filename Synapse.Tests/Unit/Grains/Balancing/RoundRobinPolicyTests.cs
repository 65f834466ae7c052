using Synapse.Grains.Balancing;

namespace Synapse.Tests.Unit.Grains.Balancing;

/// <summary>Each instance in turn, whatever its load.</summary>
[Trait("Category", "Unit")]
public sealed class RoundRobinPolicyTests
{
    private readonly RoundRobinPolicy _policy = new();

    [Fact]
    public void Name_IsTheConfiguredName()
    {
        Assert.Equal(LoadBalancingPolicies.RoundRobin, _policy.Name);
    }

    [Fact]
    public void Pick_EveryRound_VisitsEachInstanceOnceIgnoringLoad()
    {
        var candidates = new[] { Instances.With("a", 0), Instances.With("b", 3), Instances.With("c", 1) };
        var state = new LoadBalancingState();

        for (var round = 0; round < 10; round++)
        {
            var picked = Enumerable.Range(0, 3).Select(_ => _policy.Pick(candidates, state).AgentId).ToArray();
            Assert.Equal(["a", "b", "c"], picked.Order());
        }
    }

    [Fact]
    public void Pick_ManyRounds_GivesEveryInstanceTheSameCount()
    {
        var candidates = Enumerable.Range(0, 7).Select(i => Instances.With($"i{i}", inFlight: i % 4)).ToArray();

        var tally = Instances.Tally(_policy, candidates, new LoadBalancingState(), 7 * 100);

        Assert.All(tally.Values, count => Assert.Equal(100, count));
    }

    [Fact]
    public void Pick_CursorPastIntMaxValue_KeepsPickingValidInstancesInTurn()
    {
        var candidates = new[] { Instances.With("a", 0), Instances.With("b", 0) };
        var state = new LoadBalancingState { Cursor = int.MaxValue - 3 };

        var picked = Enumerable.Range(0, 8).Select(_ => _policy.Pick(candidates, state).AgentId).ToArray();

        // Two instances divide 2^32, so the turn order survives the wrap.
        for (var i = 1; i < picked.Length; i++)
        {
            Assert.NotEqual(picked[i - 1], picked[i]);
        }
    }

    [Fact]
    public void Pick_WhenTheCandidatesChange_StillPicksOneOfThem()
    {
        var state = new LoadBalancingState();
        var four = Enumerable.Range(0, 4).Select(i => Instances.With($"i{i}", 0)).ToArray();
        _policy.Pick(four, state);
        _policy.Pick(four, state);
        _policy.Pick(four, state);

        var two = four[..2];
        Assert.Contains(_policy.Pick(two, state), two);
    }
}
