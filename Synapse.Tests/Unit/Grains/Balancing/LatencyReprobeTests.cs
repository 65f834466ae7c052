using Synapse.Grains.Balancing;
using Synapse.Grains.Models;

namespace Synapse.Tests.Unit.Grains.Balancing;

/// <summary>
/// An idle instance passed over for its latency is tried again now and then, so a latency measured in a bad moment
/// (a cold connection, a loaded machine) does not keep it idle for good, while a really slower one stays rarely used.
/// </summary>
[Trait("Category", "Unit")]
public sealed class LatencyReprobeTests
{
    [Theory]
    [InlineData(LoadBalancingPolicies.LeastLoaded)]
    [InlineData(LoadBalancingPolicies.PowerOfTwoChoices)]
    public void InstanceBrandedSlowByItsFirstCalls_IsTriedAgain_AndThenSharesEvenly(string policyName)
    {
        var policy = Policy(policyName);
        var state = Instances.Seeded(21);
        var warm = Instances.With("warm", inFlight: 0, latencyMs: 5);
        var cold = Instances.With("cold", inFlight: 0, latencyMs: 60);
        var tally = new Dictionary<string, int> { ["warm"] = 0, ["cold"] = 0 };

        // Sequential calls: both are idle at every pick and both answer in 5 ms from now on.
        for (var i = 0; i < 40; i++)
        {
            var picked = policy.Pick([warm, cold], state);
            ModelInstance.Picked(picked, [warm, cold]);
            picked.RecordLatency(5);
            tally[picked.AgentId]++;
        }

        Assert.True(tally["cold"] >= 10, $"split {tally["warm"]}/{tally["cold"]}");
    }

    [Theory]
    [InlineData(LoadBalancingPolicies.LeastLoaded)]
    [InlineData(LoadBalancingPolicies.PowerOfTwoChoices)]
    public void ReallySlowerInstance_GetsOnlyTheReprobes(string policyName)
    {
        var policy = Policy(policyName);
        var state = Instances.Seeded(22);
        var fast = Instances.With("fast", inFlight: 0, latencyMs: 5);
        var slow = Instances.With("slow", inFlight: 0, latencyMs: 60);
        var slowPicks = 0;
        const int picks = 900;

        for (var i = 0; i < picks; i++)
        {
            var picked = policy.Pick([fast, slow], state);
            ModelInstance.Picked(picked, [fast, slow]);
            picked.RecordLatency(picked == slow ? 60 : 5);
            slowPicks += picked == slow ? 1 : 0;
        }

        Assert.InRange(slowPicks, picks / (ModelInstance.ReprobeAfter + 1) / 2, picks / ModelInstance.ReprobeAfter);
    }

    private static ILoadBalancingPolicy Policy(string name) => name == LoadBalancingPolicies.LeastLoaded ? new LeastLoadedPolicy() : new PowerOfTwoChoicesPolicy();
}
