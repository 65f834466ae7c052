using Orleans.Concurrency;

namespace Synapse.Grains.Observability;

/// <summary>
/// The last minutes of traffic one silo saw (requests, tokens, time to first token, errors, queue), second by second.
/// One activation per silo, pinned to it like the socket directory; the status page merges the answers of every silo.
/// </summary>
[Alias("synapse.ISiloHistoryGrain")]
public interface ISiloHistoryGrain : IGrainWithStringKey
{
    /// <summary>The seconds after <paramref name="since"/> (Unix seconds; 0 for the whole window) of one model, or of the whole silo when null.</summary>
    [Alias("GetHistory"), ReadOnly]
    Task<SiloHistory> GetHistory(long since, string? model);
}
