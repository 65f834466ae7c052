namespace Synapse.Silo.Limits;

/// <summary>Runs every local limiter's sweep four times a second (see <see cref="LocalLimiter.SweepAsync"/>).</summary>
internal sealed partial class LimitSweeper(LimitGate gate, ILogger<LimitSweeper> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await Task.WhenAll(gate.Limiters.Select(l => SweepAsync(l, stoppingToken)));
                gate.Forget(idleMs: 5 * 60 * 1000);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SweepAsync(LocalLimiter limiter, CancellationToken cancellationToken)
    {
        try
        {
            await limiter.SweepAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogSweepFailed(logger, limiter.Owner, ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limits of {Owner} could not be synchronised with their grain ({Error}); retried shortly")]
    private static partial void LogSweepFailed(ILogger logger, string owner, string error);
}
