using Synapse.Grains.Placement;

namespace Synapse.Grains.Observability;

/// <summary>Answers for the traffic history of the silo it is pinned to (its key is the silo's address).</summary>
[SiloPinnedPlacement, Immovable, Reentrant]
internal sealed class SiloHistoryGrain(ILocalHistory history) : Grain, ISiloHistoryGrain
{
    public Task<SiloHistory> GetHistory(long since, string? model) => Task.FromResult(history.Read(since, model));
}
