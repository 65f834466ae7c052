using Synapse.Grains.Balancing;

namespace Synapse.Tests.Unit.Grains.Balancing;

/// <summary>Always the least loaded instance, ties broken at random.</summary>
[Trait("Category", "Unit")]
public sealed class LeastLoadedPolicyTests
{
    private readonly LeastLoadedPolicy _policy = new();

    [Fact]
    public void Name_IsTheConfiguredName()
    {
        Assert.Equal(LoadBalancingPolicies.LeastLoaded, _policy.Name);
    }

    [Fact]
    public void Pick_AlwaysTheLeastLoadedWhereverItStandsInTheList()
    {
        var random = new Random(11);
        var state = Instances.Seeded(12);
        for (var round = 0; round < 500; round++)
        {
            var candidates = Enumerable.Range(0, 6).Select(i => Instances.With($"i{i}", inFlight: random.Next(0, 8), capacity: 8)).ToList();
            var least = candidates.Min(c => c.Load);

            Assert.Equal(least, _policy.Pick(candidates, state).Load);
        }
    }

    [Fact]
    public void Pick_ByLoadRelativeToCapacityThenLatency()
    {
        var half = Instances.With("half", inFlight: 2, capacity: 4);
        var quarterSlow = Instances.With("quarter-slow", inFlight: 4, capacity: 16, latencyMs: 800);
        var quarterFast = Instances.With("quarter-fast", inFlight: 1, capacity: 4, latencyMs: 200);

        Assert.Same(quarterFast, _policy.Pick([half, quarterSlow, quarterFast], Instances.Seeded(13)));
    }

    [Fact]
    public void Pick_TiedLeastLoaded_SpreadsEvenlyAmongThemAndNeverElsewhere()
    {
        const int picks = 30_000;
        var candidates = new[]
        {
            Instances.With("tied-a", inFlight: 1),
            Instances.With("busier", inFlight: 2),
            Instances.With("tied-b", inFlight: 1),
            Instances.With("tied-c", inFlight: 1),
        };

        var tally = Instances.Tally(_policy, candidates, Instances.Seeded(14), picks);

        Assert.Equal(0, tally["busier"]);
        Assert.All(["tied-a", "tied-b", "tied-c"], id => Assert.InRange((double)tally[id] / picks, 0.333 - 0.02, 0.333 + 0.02));
    }
}
