using System.Collections.Concurrent;
using Synapse.Grains.Agents;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;

namespace Synapse.Grains.Relay;

/// <summary>
/// One remote request's response on the socket's silo: events queue here and its inbox's <see cref="RelayOutbox"/>
/// takes them, in order, into the next envelope. Adjacent body chunks are merged on the way out. Memory is bounded
/// by the agent's flow-control window, not here.
/// </summary>
internal sealed class StreamRelaySink : IResponseSink
{
    private const int MaxMergedBodyBytes = 64 * 1024;

    private static readonly RelayEvent KeepAliveMarker = new() { Kind = RelayEventKind.End, ErrorCode = "keepalive" };

    private readonly ConcurrentQueue<RelayEvent> _events = new();
    private readonly RelayOutbox _outbox;
    private int _scheduled;
    private int _sequence;
    private int _ended;
    private int _dropped;
    private long _lastPublish = Environment.TickCount64;

    public StreamRelaySink(RelayOutbox outbox, long requestId, SiloAddress replyTo, ILocalAgentConnection connection)
    {
        _outbox = outbox;
        RequestId = requestId;
        ReplyTo = replyTo;
        Connection = connection;

        // Proves the path to the caller at once; it rides along with the head when that is already there.
        Enqueue(KeepAliveMarker);
    }

    public long RequestId { get; }

    public SiloAddress ReplyTo { get; }

    public ILocalAgentConnection Connection { get; }

    public long LastPublishTick => Volatile.Read(ref _lastPublish);

    public bool IsDropped => Volatile.Read(ref _dropped) == 1;

    public void OnHead(ResponseHead head) =>
        Enqueue(new RelayEvent
        {
            Kind = RelayEventKind.Head,
            StatusCode = head.StatusCode,
            Headers = head.Headers as HeaderField[] ?? [.. head.Headers],
        });

    public void OnBody(Frame frame, int offset)
    {
        var body = frame.Buffer.AsSpan(offset, frame.Length - offset).ToArray();
        frame.Return();
        Enqueue(new RelayEvent { Kind = RelayEventKind.Body, Body = body });
    }

    public void OnEnd(ResponseEnd end) =>
        Enqueue(new RelayEvent { Kind = RelayEventKind.End, ErrorCode = end.ErrorCode, ErrorMessage = end.ErrorMessage });

    /// <summary>Nothing was published for a while: tell the caller the path is alive.</summary>
    public void RequestKeepAlive() => Enqueue(KeepAliveMarker);

    /// <summary>Stops publishing; whatever is queued is dropped.</summary>
    public void Drop()
    {
        Volatile.Write(ref _dropped, 1);
        _events.Clear();
    }

    /// <summary>Called by the outbox before it drains, so an event arriving meanwhile schedules the sink again.</summary>
    internal bool TrySchedule() => Interlocked.Exchange(ref _scheduled, 1) == 0;

    internal void Unschedule() => Volatile.Write(ref _scheduled, 0);

    /// <summary>Takes what is queued as one batch; null when there is nothing (or only a keepalive already covered).</summary>
    internal RelayBatch? Take(out bool ended, out int bytes)
    {
        ended = false;
        bytes = 0;
        if (IsDropped)
        {
            ended = true;
            return null;
        }

        List<RelayEvent>? events = null;
        var keepAlive = false;
        while (_events.TryPeek(out var next))
        {
            if (ReferenceEquals(next, KeepAliveMarker))
            {
                _events.TryDequeue(out _);
                keepAlive = true;
                continue;
            }

            if (bytes > MaxMergedBodyBytes * 4)
            {
                // Leave the rest for the next envelope; the outbox schedules this sink again.
                break;
            }

            _events.TryDequeue(out _);
            events ??= new List<RelayEvent>(4);
            Append(events, next);
            bytes += next.Body?.Length ?? 64;
            if (next.Kind == RelayEventKind.End)
            {
                ended = true;
                Volatile.Write(ref _ended, 1);
                break;
            }
        }

        if (events is not null)
        {
            return new RelayBatch { RequestId = RequestId, Sequence = _sequence++, Events = [.. events] };
        }

        return keepAlive ? new RelayBatch { RequestId = RequestId, Sequence = RelayBatch.KeepAliveSequence, Events = [] } : null;
    }

    internal bool HasPending => !_events.IsEmpty && !IsDropped;

    internal void Published() => Volatile.Write(ref _lastPublish, Environment.TickCount64);

    private void Enqueue(RelayEvent item)
    {
        if (IsDropped || Volatile.Read(ref _ended) == 1)
        {
            return;
        }

        _events.Enqueue(item);
        _outbox.Schedule(this);
    }

    private static void Append(List<RelayEvent> batch, RelayEvent next)
    {
        if (next.Kind == RelayEventKind.Body && batch.Count > 0 && batch[^1] is { Kind: RelayEventKind.Body, Body: { } previous }
            && previous.Length + next.Body!.Length <= MaxMergedBodyBytes)
        {
            var merged = new byte[previous.Length + next.Body.Length];
            previous.CopyTo(merged, 0);
            next.Body.CopyTo(merged, previous.Length);
            batch[^1] = new RelayEvent { Kind = RelayEventKind.Body, Body = merged };
            return;
        }

        batch.Add(next);
    }
}
