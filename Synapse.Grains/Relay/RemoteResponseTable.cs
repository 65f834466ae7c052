using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Synapse.Grains.Responses;

namespace Synapse.Grains.Relay;

/// <summary>
/// On the caller's silo: responses on their way from other silos, by request id. The inbox subscription delivers
/// batches here. Memory streams keep order, so a sequence gap means batches were lost (their queue died with its
/// silo) and the response fails at once; a duplicate is dropped; and a response that goes silent — not even the
/// sender's keepalives arrive — is given up by <see cref="FailStalled"/> instead of hanging its caller.
/// </summary>
public sealed partial class RemoteResponseTable(IOptions<RelayOptions> options, ILogger<RemoteResponseTable> logger) : IRelayInbox
{
    private readonly ConcurrentDictionary<long, Entry> _entries = new();
    private readonly long[] _suspectUntil = new long[RelayStreams.InboxShards];
    private readonly IdleSignal _waiting = new();
    private long _settlingUntil;

    public int Count => _entries.Count;

    public void Register(IResponseReceiver receiver, SiloAddress source)
    {
        _entries[receiver.RequestId] = new Entry(receiver, source);
        _waiting.Set();
    }

    /// <summary>Returns once a response from another silo is awaited (at once if one is).</summary>
    internal ValueTask WaitForEntriesAsync(CancellationToken cancellationToken) =>
        _waiting.WaitUntilAsync(() => !_entries.IsEmpty, cancellationToken);

    /// <summary>
    /// A new request id whose inbox shard has not failed lately. After a silo dies, a few inbox streams may stall
    /// while Orleans moves their queues; new requests route around them instead of waiting them out.
    /// </summary>
    public long NewRequestId()
    {
        var now = Environment.TickCount64;
        long id = 0;
        for (var attempt = 0; attempt < 32; attempt++)
        {
            id = Random.Shared.NextInt64(1, long.MaxValue);
            if (Volatile.Read(ref _suspectUntil[RelayStreams.ShardOf(id)]) <= now)
            {
                return id;
            }
        }

        return id;
    }

    public void Remove(long requestId) => _entries.TryRemove(requestId, out _);

    public void Deliver(RelayBatch batch)
    {
        if (!_entries.TryGetValue(batch.RequestId, out var entry))
        {
            // The caller gave up (or was retried elsewhere) before the answer arrived.
            return;
        }

        lock (entry)
        {
            entry.LastHeardTick = Environment.TickCount64;
            entry.Heard = true;
            if (batch.Sequence == RelayBatch.KeepAliveSequence)
            {
                return;
            }

            if (batch.Sequence < entry.Next)
            {
                LogDuplicate(logger, batch.RequestId, batch.Sequence);
                return;
            }

            if (batch.Sequence > entry.Next)
            {
                LogLost(logger, batch.RequestId, entry.Next, batch.Sequence);
                Suspect(batch.RequestId);
                Interrupt(entry, "Part of the response was lost between gateway nodes.");
                return;
            }

            entry.Next++;
            foreach (var item in batch.Events)
            {
                entry.Receiver.Write(item);
            }
        }
    }

    /// <summary>The silo holding these sockets died: their callers get an error now rather than a hang.</summary>
    public int FailAllFrom(SiloAddress silo)
    {
        var failed = 0;
        foreach (var entry in _entries.Values)
        {
            if (entry.Source.Equals(silo))
            {
                failed++;
                Fail(entry, "The gateway node holding the agent's connection failed.");
            }
        }

        return failed;
    }

    /// <summary>
    /// Fails responses whose path broke: nothing at all within the accept timeout (the socket's silo proves the
    /// path at once), or nothing, not even a keepalive, for the stall timeout.
    /// </summary>
    public int FailStalled()
    {
        var now = Environment.TickCount64;
        var settling = now < Volatile.Read(ref _settlingUntil);
        var relay = options.Value;
        var stallLimit = now - (long)(settling ? relay.SettlingStallTimeout : relay.StallTimeout).TotalMilliseconds;
        var acceptLimit = now - (long)(settling ? relay.SettlingAcceptTimeout : relay.AcceptTimeout).TotalMilliseconds;
        var failed = 0;
        foreach (var entry in _entries.Values)
        {
            var lastHeard = Volatile.Read(ref entry.LastHeardTick);
            var stalled = entry.Heard ? lastHeard < stallLimit : lastHeard < acceptLimit;
            if (stalled && !entry.Receiver.HasEnded)
            {
                failed++;
                LogStalled(logger, entry.Receiver.RequestId, entry.Source, (now - lastHeard) / 1000.0);
                Suspect(entry.Receiver.RequestId);
                Interrupt(entry, "The response stopped arriving from the gateway node holding the agent's connection.");
            }
        }

        return failed;
    }

    /// <summary>Membership changed: stream queues are changing hands, so give up on silent paths sooner for a while.</summary>
    public void ClusterChanged() =>
        Volatile.Write(ref _settlingUntil, Environment.TickCount64 + (long)options.Value.SettlingPeriod.TotalMilliseconds);

    private void Suspect(long requestId) =>
        Volatile.Write(ref _suspectUntil[RelayStreams.ShardOf(requestId)], Environment.TickCount64 + (long)options.Value.SuspectShardPeriod.TotalMilliseconds);

    private static void Fail(Entry entry, string message) =>
        entry.Receiver.Fail(GatewayErrorCodes.GatewayNodeLost, message);

    private static void Interrupt(Entry entry, string message) =>
        entry.Receiver.Fail(GatewayErrorCodes.RelayInterrupted, message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped duplicate batch {Sequence} of request {RequestId}")]
    private static partial void LogDuplicate(ILogger logger, long requestId, int sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: batch {Expected} was lost (got {Sequence}); failing the response")]
    private static partial void LogLost(ILogger logger, long requestId, int expected, int sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: nothing arrived from silo {Silo} for {Seconds:0.0} s; failing the response")]
    private static partial void LogStalled(ILogger logger, long requestId, SiloAddress silo, double seconds);

    private sealed class Entry(IResponseReceiver receiver, SiloAddress source)
    {
        public long LastHeardTick = Environment.TickCount64;

        public volatile bool Heard;

        public IResponseReceiver Receiver { get; } = receiver;

        public SiloAddress Source { get; } = source;

        public int Next { get; set; }
    }
}
