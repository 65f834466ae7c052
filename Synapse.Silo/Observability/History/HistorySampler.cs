using Synapse.Silo.Status;

namespace Synapse.Silo.Observability.History;

/// <summary>
/// Seals the traffic history once a second, a quarter of a second after the second ends (calls that ended in it
/// have counted by then), with each model's queue as the status cache last saw it.
/// </summary>
internal sealed partial class HistorySampler(
    RequestHistory history,
    ClusterStatusProvider status,
    TimeProvider time,
    ILogger<HistorySampler> logger) : BackgroundService
{
    private static readonly TimeSpan Offset = TimeSpan.FromMilliseconds(250);

    /// <summary>A cached queue older than this is not sampled: the chart shows a gap rather than a stale value.</summary>
    private static readonly TimeSpan QueueFreshFor = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var next = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() + 1) + Offset;
            try
            {
                await Task.Delay(next - now, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                history.Seal(time.GetUtcNow().ToUnixTimeSeconds(), Queues());
            }
            catch (Exception ex)
            {
                LogSealFailed(logger, ex);
            }
        }
    }

    private Dictionary<string, int>? Queues()
    {
        if (status.Latest is not { } latest || time.GetUtcNow() - latest.GeneratedAt > QueueFreshFor)
        {
            return null;
        }

        var queues = new Dictionary<string, int>(latest.Models.Count, StringComparer.Ordinal);
        foreach (var model in latest.Models)
        {
            queues[RequestHistory.KeyOf(model.Group, model.Id)] = model.Queued;
        }

        return queues;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not seal the traffic history")]
    private static partial void LogSealFailed(ILogger logger, Exception exception);
}
