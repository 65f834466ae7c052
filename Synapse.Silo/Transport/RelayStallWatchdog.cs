namespace Synapse.Silo.Transport;

/// <summary>Twice a second, gives up cross-silo responses that went silent (see <see cref="RemoteResponseTable"/>).</summary>
internal sealed class RelayStallWatchdog(RemoteResponseTable table) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                table.FailStalled();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
