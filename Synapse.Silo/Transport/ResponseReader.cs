using Synapse.Grains.Responses;

namespace Synapse.Silo.Transport;

/// <summary>
/// Reads one response for the handler writing it, each wait bounded: silence for the idle timeout cancels the
/// request on the agent and reads as an <c>idle_timeout</c> end, here and nowhere else. Idle, not total: a response
/// that keeps producing is never cut. The common case (the next event is already there) costs nothing; only a real
/// wait arms a timer.
/// </summary>
internal sealed class ResponseReader(UpstreamCall call, TimeSpan idleTimeout, CancellationToken caller) : IDisposable
{
    private CancellationTokenSource _limit = CancellationTokenSource.CreateLinkedTokenSource(caller);
    private long _lastEventTick = Environment.TickCount64;

    /// <summary>
    /// The next event. With <paramref name="wakeAfter"/>, null when that much passed without one (and the idle timeout
    /// has not), so the writer can keep its caller's connection warm. Throws when the caller goes away.
    /// </summary>
    public async ValueTask<ResponseEvent?> ReadAsync(TimeSpan? wakeAfter = null)
    {
        if (TryRead(out var ready))
        {
            return ready;
        }

        var idleLeft = idleTimeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - _lastEventTick);
        var wait = wakeAfter is { } wake && wake < idleLeft ? wake : idleLeft;
        if (!_limit.TryReset())
        {
            _limit.Dispose();
            _limit = CancellationTokenSource.CreateLinkedTokenSource(caller);
        }

        _limit.CancelAfter(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1));
        try
        {
            var item = await call.Channel.ReadAsync(_limit.Token);
            _lastEventTick = Environment.TickCount64;
            return item;
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            if (Environment.TickCount64 - _lastEventTick < idleTimeout.TotalMilliseconds)
            {
                return null;
            }

            call.Cancel();
            return ResponseEvent.End(GatewayErrorCodes.IdleTimeout, null);
        }
    }

    /// <summary>An event that is already there, if any (to write several in one flush).</summary>
    public bool TryRead(out ResponseEvent item)
    {
        if (call.Channel.TryRead(out item))
        {
            _lastEventTick = Environment.TickCount64;
            return true;
        }

        return false;
    }

    public void Dispose() => _limit.Dispose();
}
