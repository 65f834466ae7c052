using Orleans.Runtime.Placement;
using Synapse.Grains.Agents;

namespace Synapse.Grains.Placement;

/// <summary>
/// Activates the grain on the silo its key names, or fails the call at once when that silo is gone: a grain
/// activated anywhere else would have no socket behind it.
/// </summary>
public sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString() ?? string.Empty;
        if (!AgentConnectionKey.TryGetSilo(key, out var silo) || silo is null)
        {
            throw new OrleansException($"Grain key '{key}' does not name a silo.");
        }

        foreach (var compatible in context.GetCompatibleSilos(target))
        {
            if (compatible.Equals(silo))
            {
                return Task.FromResult(silo);
            }
        }

        throw new SiloUnavailableException($"Silo {silo} holding this connection is not in the cluster.");
    }
}
