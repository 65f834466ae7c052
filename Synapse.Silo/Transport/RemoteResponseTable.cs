using System.Collections.Concurrent;
using Synapse.Grains.Relay;

namespace Synapse.Silo.Transport;

/// <summary>
/// On the caller's silo: responses on their way from other silos, by request id. The inbox subscription delivers
/// batches here; sequence numbers restore order and drop duplicates, so a reordering or redelivering stream
/// provider cannot corrupt a response.
/// </summary>
internal sealed partial class RemoteResponseTable(ILogger<RemoteResponseTable> logger)
{
    private const int MaxEarlyBatches = 256;

    private readonly ConcurrentDictionary<long, Entry> _entries = new();

    public int Count => _entries.Count;

    public void Register(ResponseChannel channel, SiloAddress source) =>
        _entries[channel.RequestId] = new Entry(channel, source);

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
            if (batch.Sequence < entry.Next)
            {
                LogDuplicate(logger, batch.RequestId, batch.Sequence);
                return;
            }

            if (batch.Sequence > entry.Next)
            {
                entry.Early ??= [];
                if (entry.Early.Count >= MaxEarlyBatches)
                {
                    entry.Channel.Fail(Protocol.Messages.AgentErrorCodes.GatewayNodeLost, "Response chunks were lost between gateway nodes.");
                    return;
                }

                entry.Early.TryAdd(batch.Sequence, batch);
                return;
            }

            Apply(entry.Channel, batch);
            entry.Next++;
            while (entry.Early is { Count: > 0 } early && early.Remove(entry.Next, out var next))
            {
                Apply(entry.Channel, next);
                entry.Next++;
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
                entry.Channel.Fail(Protocol.Messages.AgentErrorCodes.GatewayNodeLost, "The gateway node holding the agent's connection failed.");
            }
        }

        return failed;
    }

    private static void Apply(ResponseChannel channel, RelayBatch batch)
    {
        foreach (var item in batch.Events)
        {
            switch (item.Kind)
            {
                case RelayEventKind.Head:
                    channel.OnHead(item.StatusCode, item.Headers ?? []);
                    break;
                case RelayEventKind.Body when item.Body is { Length: > 0 } body:
                    channel.OnBody(body);
                    break;
                case RelayEventKind.End:
                    channel.Fail(item.ErrorCode, item.ErrorMessage);
                    break;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped duplicate batch {Sequence} of request {RequestId}")]
    private static partial void LogDuplicate(ILogger logger, long requestId, int sequence);

    private sealed class Entry(ResponseChannel channel, SiloAddress source)
    {
        public ResponseChannel Channel { get; } = channel;

        public SiloAddress Source { get; } = source;

        public int Next { get; set; }

        public SortedDictionary<int, RelayBatch>? Early { get; set; }
    }
}
