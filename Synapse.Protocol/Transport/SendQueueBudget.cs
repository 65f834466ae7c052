using System.Collections.Concurrent;

namespace Synapse.Protocol.Transport;

/// <summary>
/// Bytes that every <see cref="FramedConnection"/> sharing it may hold in their send queues together, so that N
/// peers that stop reading cannot each take a per-socket limit's worth of memory. When it is full, a connection over
/// its fair share (the budget divided by the connections) is cut; one under it makes the biggest holder be cut
/// instead, so a well-behaved peer never pays for a hostile one. Thread-safe.
/// </summary>
public sealed class SendQueueBudget(long limitBytes)
{
    private readonly ConcurrentDictionary<FramedConnection, byte> _members = new();
    private long _used;

    public long LimitBytes { get; } = limitBytes;

    public long UsedBytes => Volatile.Read(ref _used);

    /// <summary>A connection's fair share right now.</summary>
    public long ShareBytes => LimitBytes / Math.Max(1, _members.Count);

    internal void Join(FramedConnection connection) => _members.TryAdd(connection, 0);

    internal void Leave(FramedConnection connection) => _members.TryRemove(connection, out _);

    /// <summary>Takes <paramref name="bytes"/> for <paramref name="taker"/>; false when it is the one that must go.</summary>
    internal bool TryTake(FramedConnection taker, long bytes)
    {
        if (Interlocked.Add(ref _used, bytes) <= LimitBytes)
        {
            return true;
        }

        if (taker.QueuedBytes > ShareBytes)
        {
            Interlocked.Add(ref _used, -bytes);
            return false;
        }

        // Over budget, but not because of this one: cut the biggest holder, whose queue returns as it closes.
        FramedConnection? largest = null;
        foreach (var member in _members.Keys)
        {
            if (member != taker && (largest is null || member.QueuedBytes > largest.QueuedBytes))
            {
                largest = member;
            }
        }

        largest?.Abort(ConnectionClosedReason.SendQueueFull, "the peer holds the largest share of the full send queues");
        return true;
    }

    internal void Give(long bytes) => Interlocked.Add(ref _used, -bytes);
}
