using Synapse.Grains.Models;

namespace Synapse.Silo.Forwarding;

/// <summary>
/// One instance leased for one attempt. Released exactly once, when disposed, with the outcome the attempt recorded
/// (none recorded counts as a path failure: no mark against the instance), so no way out of an attempt can leak
/// capacity or give it back twice.
/// </summary>
internal sealed partial class InstanceLease(IModelGrain model, Lease lease, TimeSpan queued, ILogger logger) : IDisposable
{
    private LeaseOutcome _outcome = LeaseOutcome.Unreachable();
    private int _released;

    public Lease Lease { get; } = lease;

    /// <summary>How long the request waited in the model's queue for this lease.</summary>
    public TimeSpan Queued { get; } = queued;

    public void Record(LeaseOutcome outcome) => _outcome = outcome;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        var release = model.Release(Lease.RequestId, _outcome);
        if (!release.IsCompletedSuccessfully)
        {
            _ = release.ContinueWith(
                static (t, state) =>
                {
                    var (logger, requestId) = ((ILogger, long))state!;
                    LogReleaseFailed(logger, t.Exception!, requestId);
                },
                (logger, Lease.RequestId),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release lease {RequestId}; the registry reconciles it from the next refresh")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, long requestId);
}
