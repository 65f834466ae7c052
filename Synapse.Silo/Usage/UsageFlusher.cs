using Microsoft.Extensions.Options;
using Synapse.Grains.Usage;

namespace Synapse.Silo.Usage;

/// <summary>Hands this silo's counts to the usage grains every <see cref="UsageOptions.FlushInterval"/>, and once more on the way down.</summary>
internal sealed partial class UsageFlusher(UsageLedger ledger, IGrainFactory grains, IOptions<UsageOptions> options, [FromKeyedServices(UsageOptions.ClockKey)] TimeProvider clock, ILogger<UsageFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    /// <summary>One flush; a batch a grain could not take is counted again in the next one rather than lost.</summary>
    internal async Task FlushAsync(CancellationToken cancellationToken)
    {
        var taken = ledger.Take();
        if (taken.Count == 0)
        {
            return;
        }

        var at = clock.GetUtcNow();
        await Task.WhenAll(taken.Select(async entry =>
        {
            var batch = entry.Value.ToBatch(at);
            try
            {
                await grains.GetGrain<IUsageGrain>(entry.Key).Add(batch, entry.Value.Period).WaitAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogFlushFailed(logger, entry.Key, ex.GetType().Name);
                ledger.Return(entry.Key, entry.Value);
            }
        }));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage of {UsageKey} could not be handed to its grain ({Error}); kept for the next flush")]
    private static partial void LogFlushFailed(ILogger logger, string usageKey, string error);
}
