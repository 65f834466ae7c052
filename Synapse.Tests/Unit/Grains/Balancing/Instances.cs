using System.Reflection;
using Synapse.Grains.Balancing;
using Synapse.Grains.Models;

namespace Synapse.Tests.Unit.Grains.Balancing;

/// <summary>Model instances and policy state for the balancing tests.</summary>
internal static class Instances
{
    public static ModelInstance With(string agentId, int inFlight, int capacity = 4, double latencyMs = 0)
    {
        var instance = new ModelInstance(agentId) { InFlight = inFlight, Capacity = capacity };
        for (var i = 0; latencyMs > 0 && i < 3; i++)
        {
            // Latency counts from the third measured request (the median of the last few).
            instance.RecordLatency(latencyMs);
        }

        return instance;
    }

    /// <summary>
    /// Policy state whose random choices repeat from run to run. The product makes its own unseeded
    /// <see cref="Random"/> per model grain and offers no way to pass one in, so the seeded one is put in its place.
    /// </summary>
    public static LoadBalancingState Seeded(int seed)
    {
        var state = new LoadBalancingState();
        var field = typeof(LoadBalancingState).GetField("<Random>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("LoadBalancingState.Random is no longer an auto-property; seed it another way.");
        field.SetValue(state, new Random(seed));
        return state;
    }

    /// <summary>How many times each instance was picked in <paramref name="picks"/> rounds.</summary>
    public static Dictionary<string, int> Tally(ILoadBalancingPolicy policy, IReadOnlyList<ModelInstance> candidates, LoadBalancingState state, int picks)
    {
        var tally = candidates.ToDictionary(c => c.AgentId, _ => 0);
        for (var i = 0; i < picks; i++)
        {
            tally[policy.Pick(candidates, state).AgentId]++;
        }

        return tally;
    }
}
