namespace Synapse.Client.Forwarding;

/// <summary>
/// Per-request flow control: the agent sends response bytes only while the gateway has granted room for them,
/// so a slow caller slows its own upstream read and nothing else on the socket.
/// </summary>
internal sealed class CreditWindow(int initial)
{
    private readonly Lock _lock = new();
    private int _available = initial;
    private TaskCompletionSource? _waiter;

    /// <summary>Waits until some credit is available; returns how much may be sent now (at most <paramref name="max"/>).</summary>
    public async ValueTask<int> WaitAsync(int max, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_available > 0)
                {
                    return Math.Min(max, _available);
                }

                _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _waiter.Task;
            }

            await wait.WaitAsync(cancellationToken);
        }
    }

    public void Consume(int bytes)
    {
        lock (_lock)
        {
            _available -= bytes;
        }
    }

    public void Grant(int bytes)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            _available += bytes;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
    }
}
