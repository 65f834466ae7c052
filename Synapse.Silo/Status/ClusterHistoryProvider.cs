using Synapse.Grains.Agents;
using Synapse.Grains.Cluster;
using Synapse.Grains.Observability;
using Synapse.Silo.Cluster;

namespace Synapse.Silo.Status;

/// <summary>Asks every active silo for its traffic history and merges the answers (see <see cref="HistoryMerge"/>).</summary>
internal sealed partial class ClusterHistoryProvider(IGrainFactory grains, ClusterView cluster, ILogger<ClusterHistoryProvider> logger)
{
    /// <summary>Per silo: the page asks once a second, and a silo that cannot answer in time is left out of this answer only.</summary>
    private static readonly TimeSpan SiloTimeout = TimeSpan.FromMilliseconds(1500);

    public async Task<ClusterHistory> GetAsync(long since, string? model, CancellationToken cancellationToken)
    {
        var silos = cluster.ActiveSilos;
        if (silos.Count == 0)
        {
            silos = [cluster.LocalSilo];
        }

        var answers = await SiloFanOut.AskAsync(
            silos,
            silo => grains.GetGrain<ISiloHistoryGrain>(AgentConnectionKey.ForSilo(silo)).GetHistory(since, model),
            SiloTimeout,
            cancellationToken);
        foreach (var silent in answers.Where(a => !a.Answered))
        {
            LogSiloUnanswered(logger, silent.Failure, silent.Silo);
        }

        return HistoryMerge.Merge(since, model, [.. answers.Where(a => a.Answered).Select(a => a.Value!)], silos.Count);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Silo {Silo} did not give its traffic history")]
    private static partial void LogSiloUnanswered(ILogger logger, Exception? exception, SiloAddress silo);
}
