using Synapse.Grains.Agents;
using Synapse.Grains.Models;
using Synapse.Grains.Relay;

namespace Synapse.Silo.Transport;

/// <summary>The socket is on another silo: control goes through its connection grain, the answer comes by stream.</summary>
internal sealed partial class RemoteUpstreamCall(
    ResponseChannel channel,
    Lease lease,
    int grantThreshold,
    IAgentConnectionGrain connection,
    RemoteResponseTable table,
    ILogger logger)
    : UpstreamCall(channel, lease, grantThreshold)
{
    public override bool IsLocal => false;

    public override void Cancel() => Observe(connection.Cancel(Lease.RequestId), "cancel");

    public override void Dispose()
    {
        table.Remove(Lease.RequestId);
        base.Dispose();
    }

    protected override void Grant(int bytes) => Observe(connection.Grant(Lease.RequestId, bytes), "grant");

    private void Observe(Task call, string what)
    {
        if (call.IsCompletedSuccessfully)
        {
            return;
        }

        _ = call.ContinueWith(
            t => LogControlFailed(logger, t.Exception!, what, Lease.RequestId),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not {What} request {RequestId} on the socket's silo")]
    private static partial void LogControlFailed(ILogger logger, Exception exception, string what, long requestId);
}
