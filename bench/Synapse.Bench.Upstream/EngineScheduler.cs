namespace Synapse.Bench.Upstream;

/// <summary>
/// The fake engine's batch: at most <c>slots</c> requests generate at once, the others wait in arrival order (vLLM's
/// scheduler admits waiting requests first come, first served). It also keeps what the engine's <c>/metrics</c>
/// reports: requests running and waiting, and the KV cache tokens the running ones hold.
/// </summary>
internal sealed class EngineScheduler(int slots)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource> _waiting = [];
    private int _running;
    private long _kvTokens;
    private int _maxWaiting;

    public int Running
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>The longest the queue has been since the engine started.</summary>
    public int MaxWaiting
    {
        get
        {
            lock (_lock)
            {
                return _maxWaiting;
            }
        }
    }

    public long KvTokens => Interlocked.Read(ref _kvTokens);

    /// <summary>Waits for a slot; the caller must <see cref="Exit"/> once it has one (also when it then fails).</summary>
    public async ValueTask EnterAsync(CancellationToken cancellationToken)
    {
        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            if (_running < slots && _waiting.Count == 0)
            {
                _running++;
                return;
            }

            node = _waiting.AddLast(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            _maxWaiting = Math.Max(_maxWaiting, _waiting.Count);
        }

        await using (cancellationToken.Register(() => Abandon(node)))
        {
            // Handed a slot, this completes; cancelled while still waiting, it throws and no slot is held.
            await node.Value.Task;
        }
    }

    /// <summary>Gives a slot back: to the request waiting longest, if any.</summary>
    public void Exit()
    {
        TaskCompletionSource? next = null;
        lock (_lock)
        {
            if (_waiting.First is { } first)
            {
                _waiting.RemoveFirst();
                next = first.Value;
            }
            else
            {
                _running--;
            }
        }

        next?.TrySetResult();
    }

    public void Hold(long tokens) => Interlocked.Add(ref _kvTokens, tokens);

    private void Abandon(LinkedListNode<TaskCompletionSource> node)
    {
        lock (_lock)
        {
            if (node.List is null)
            {
                // Already handed a slot: the caller owns it and gives it back.
                return;
            }

            _waiting.Remove(node);
        }

        node.Value.TrySetCanceled();
    }
}
