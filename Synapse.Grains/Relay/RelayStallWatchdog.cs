using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Synapse.Grains.Relay;

/// <summary>
/// Every <see cref="RelayOptions.StallCheckPeriod"/>, gives up cross-silo responses that went silent (see
/// <see cref="RemoteResponseTable"/>); asleep while no response from another silo is awaited.
/// </summary>
internal sealed class RelayStallWatchdog(RemoteResponseTable table, IOptions<RelayOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = options.Value.StallCheckPeriod;
        try
        {
            while (true)
            {
                await table.WaitForEntriesAsync(stoppingToken);
                await Task.Delay(period, stoppingToken);
                table.FailStalled();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
