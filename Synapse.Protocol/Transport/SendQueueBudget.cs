namespace Synapse.Protocol.Transport;

/// <summary>
/// Bytes that every <see cref="FramedConnection"/> sharing it may hold in their send queues together, so that N
/// peers that stop reading cannot each take a per-socket limit's worth of memory. Thread-safe.
/// </summary>
public sealed class SendQueueBudget(long limitBytes)
{
    private long _used;

    public long LimitBytes { get; } = limitBytes;

    public long UsedBytes => Volatile.Read(ref _used);

    /// <summary>Takes <paramref name="bytes"/> from the budget; false (and nothing taken) when it would overflow.</summary>
    public bool TryTake(long bytes)
    {
        if (Interlocked.Add(ref _used, bytes) <= LimitBytes)
        {
            return true;
        }

        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    public void Give(long bytes) => Interlocked.Add(ref _used, -bytes);
}
