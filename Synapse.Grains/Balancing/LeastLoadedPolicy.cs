using Synapse.Grains.Models;

namespace Synapse.Grains.Balancing;

/// <summary>Always the least loaded instance; ties go to a random one of them.</summary>
public sealed class LeastLoadedPolicy : ILoadBalancingPolicy
{
    public string Name => LoadBalancingPolicies.LeastLoaded;

    public ModelInstance Pick(IReadOnlyList<ModelInstance> candidates, LoadBalancingState state)
    {
        var best = candidates[0];
        var ties = 1;
        for (var i = 1; i < candidates.Count; i++)
        {
            var comparison = ModelInstance.CompareLoad(candidates[i], best);
            if (comparison < 0)
            {
                best = candidates[i];
                ties = 1;
            }
            else if (comparison == 0 && state.Random.Next(++ties) == 0)
            {
                best = candidates[i];
            }
        }

        return best;
    }
}
