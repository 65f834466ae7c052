using Synapse.Grains.Models;

namespace Synapse.Grains.Balancing;

/// <summary>
/// Picks one instance among those that can take a request now (alive, not draining, below capacity). Named, so an
/// operator can choose one in configuration (<c>Synapse:Balancing:Policy</c>), as in YARP's ILoadBalancingPolicy.
/// </summary>
public interface ILoadBalancingPolicy
{
    string Name { get; }

    /// <param name="candidates">Never empty.</param>
    /// <param name="state">Per-model state the policy may keep (a round-robin cursor, say).</param>
    ModelInstance Pick(IReadOnlyList<ModelInstance> candidates, LoadBalancingState state);
}
