using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Synapse.Grains.Relay;

/// <summary>Every <see cref="RelayOptions.StallCheckPeriod"/>, gives up cross-silo responses that went silent (see <see cref="RemoteResponseTable"/>).</summary>
internal sealed class RelayStallWatchdog(RemoteResponseTable table, IOptions<RelayOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.StallCheckPeriod);
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
