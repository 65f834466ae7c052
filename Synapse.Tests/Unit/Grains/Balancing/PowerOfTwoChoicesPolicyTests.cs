using Synapse.Grains.Balancing;

namespace Synapse.Tests.Unit.Grains.Balancing;

/// <summary>Two instances sampled, the less loaded taken: near least-loaded, without herding onto one instance.</summary>
[Trait("Category", "Unit")]
public sealed class PowerOfTwoChoicesPolicyTests
{
    private const int Picks = 20_000;
    private readonly PowerOfTwoChoicesPolicy _policy = new();

    [Fact]
    public void Name_IsTheConfiguredName()
    {
        Assert.Equal(LoadBalancingPolicies.PowerOfTwoChoices, _policy.Name);
    }

    [Fact]
    public void Pick_OneCandidate_IsThatCandidate()
    {
        var only = Instances.With("a", inFlight: 4);

        Assert.Same(only, _policy.Pick([only], Instances.Seeded(1)));
    }

    [Fact]
    public void Pick_TwoCandidates_AlwaysTheLessLoaded()
    {
        var busy = Instances.With("busy", inFlight: 3);
        var idle = Instances.With("idle", inFlight: 1);

        var tally = Instances.Tally(_policy, [busy, idle], Instances.Seeded(2), 1000);

        Assert.Equal(1000, tally["idle"]);
    }

    [Fact]
    public void Pick_ByLoadRelativeToCapacity_NotByRawInFlight()
    {
        // 6 of 16 is lighter than 2 of 4.
        var big = Instances.With("big", inFlight: 6, capacity: 16);
        var small = Instances.With("small", inFlight: 2, capacity: 4);

        Assert.Same(big, _policy.Pick([small, big], Instances.Seeded(3)));
    }

    [Fact]
    public void Pick_EqualLoad_PrefersTheLowerRecentLatency()
    {
        var slow = Instances.With("slow", inFlight: 1, latencyMs: 900);
        var fast = Instances.With("fast", inFlight: 1, latencyMs: 120);

        var tally = Instances.Tally(_policy, [slow, fast], Instances.Seeded(4), 500);

        Assert.Equal(500, tally["fast"]);
    }

    [Fact]
    public void Pick_NeverTheMostLoaded_AndEachByTheOddsOfWinningASample()
    {
        var candidates = new[]
        {
            Instances.With("load0", inFlight: 0),
            Instances.With("load1", inFlight: 1),
            Instances.With("load2", inFlight: 2),
            Instances.With("load3", inFlight: 3),
        };

        var tally = Instances.Tally(_policy, candidates, Instances.Seeded(5), Picks);

        // Of n, the k-th least loaded wins when it is sampled with a more loaded one: 2(n-1-k) / (n(n-1)).
        Assert.Equal(0, tally["load3"]);
        Assert.InRange(Share(tally["load0"]), 0.50 - 0.02, 0.50 + 0.02);
        Assert.InRange(Share(tally["load1"]), 0.333 - 0.02, 0.333 + 0.02);
        Assert.InRange(Share(tally["load2"]), 0.167 - 0.02, 0.167 + 0.02);
    }

    [Fact]
    public void Pick_AllEquallyLoaded_SpreadsEvenly()
    {
        var candidates = Enumerable.Range(0, 5).Select(i => Instances.With($"i{i}", inFlight: 1)).ToArray();

        var tally = Instances.Tally(_policy, candidates, Instances.Seeded(6), Picks);

        Assert.All(tally.Values, count => Assert.InRange(Share(count), 0.20 - 0.02, 0.20 + 0.02));
    }

    [Fact]
    public void Pick_OneInstanceSlightlyLessLoaded_DoesNotGetEveryRequest()
    {
        // What sets it apart from least-loaded: between two load reports every pick sees the same loads, and
        // least-loaded would send them all to the one instance that looked lightest. Here it gets only its 2/n.
        var candidates = Enumerable.Range(0, 8).Select(i => Instances.With($"i{i}", inFlight: i == 0 ? 0 : 1)).ToArray();

        var tally = Instances.Tally(_policy, candidates, Instances.Seeded(7), Picks);

        Assert.InRange(Share(tally["i0"]), 0.25 - 0.02, 0.25 + 0.02);
        Assert.All(tally.Where(t => t.Key != "i0"), t => Assert.InRange(Share(t.Value), (0.75 / 7) - 0.02, (0.75 / 7) + 0.02));
    }

    private static double Share(int count) => (double)count / Picks;
}
