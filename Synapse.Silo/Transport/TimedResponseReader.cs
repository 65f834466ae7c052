namespace Synapse.Silo.Transport;

/// <summary>
/// Reads a response with a limit on each wait, for idle timeouts and keepalives. The common case — the next event
/// is already there — costs nothing; only a real wait arms a timer.
/// </summary>
internal sealed class TimedResponseReader(ResponseChannel channel, CancellationToken caller) : IDisposable
{
    private CancellationTokenSource _limit = CancellationTokenSource.CreateLinkedTokenSource(caller);

    /// <summary>The next event, or <c>TimedOut</c> when none came within <paramref name="limit"/>.</summary>
    public async ValueTask<(bool TimedOut, ResponseEvent Item)> ReadAsync(TimeSpan limit)
    {
        if (channel.TryRead(out var ready))
        {
            return (false, ready);
        }

        if (!_limit.TryReset())
        {
            _limit.Dispose();
            _limit = CancellationTokenSource.CreateLinkedTokenSource(caller);
        }

        _limit.CancelAfter(limit);
        try
        {
            return (false, await channel.ReadAsync(_limit.Token));
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            return (true, default);
        }
    }

    public void Dispose() => _limit.Dispose();
}
