using Synapse.Grains.Models;

namespace Synapse.Grains.Balancing;

/// <summary>Each instance in turn, ignoring load (capacity still caps each one).</summary>
public sealed class RoundRobinPolicy : ILoadBalancingPolicy
{
    public string Name => LoadBalancingPolicies.RoundRobin;

    public ModelInstance Pick(IReadOnlyList<ModelInstance> candidates, LoadBalancingState state)
    {
        var index = (int)((uint)state.Cursor++ % (uint)candidates.Count);
        return candidates[index];
    }
}
