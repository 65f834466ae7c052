using Synapse.Grains.Models;

namespace Synapse.Grains.Balancing;

/// <summary>
/// Samples two instances and takes the less loaded (in-flight relative to capacity; then recent latency). Close to
/// least-loaded in balance, but two concurrent pickers rarely pile onto the same instance.
/// </summary>
public sealed class PowerOfTwoChoicesPolicy : ILoadBalancingPolicy
{
    public string Name => LoadBalancingPolicies.PowerOfTwoChoices;

    public ModelInstance Pick(IReadOnlyList<ModelInstance> candidates, LoadBalancingState state)
    {
        if (candidates.Count == 1)
        {
            return candidates[0];
        }

        var first = state.Random.Next(candidates.Count);
        var second = state.Random.Next(candidates.Count - 1);
        if (second >= first)
        {
            second++;
        }

        return ModelInstance.CompareLoad(candidates[first], candidates[second]) <= 0 ? candidates[first] : candidates[second];
    }
}
