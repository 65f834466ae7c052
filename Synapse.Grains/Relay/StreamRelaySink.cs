using System.Collections.Concurrent;
using Synapse.Grains.Agents;
using Synapse.Grains.Responses;

namespace Synapse.Grains.Relay;

/// <summary>
/// One remote request's response on the socket's silo: events queue here and its inbox's <see cref="RelayOutbox"/>
/// takes them, in order, into the next envelope. Adjacent body chunks are merged on the way out. Memory is bounded
/// by the agent's flow-control window, not here.
/// </summary>
internal sealed class StreamRelaySink : IResponseSink
{
    private const int MaxMergedBodyBytes = 64 * 1024;

    private readonly ConcurrentQueue<ResponseEvent> _events = new();
    private readonly RelayOutbox _outbox;
    private int _scheduled;
    private int _sequence;
    private int _ended;
    private int _dropped;

    // Proves the path to the caller at once; it rides along with the head when that is already there.
    private int _keepAliveWanted = 1;
    private long _lastPublish = Environment.TickCount64;

    public StreamRelaySink(RelayOutbox outbox, long requestId, SiloAddress replyTo, ILocalAgentConnection connection)
    {
        _outbox = outbox;
        RequestId = requestId;
        ReplyTo = replyTo;
        Connection = connection;
        _outbox.Schedule(this);
    }

    public long RequestId { get; }

    public SiloAddress ReplyTo { get; }

    public ILocalAgentConnection Connection { get; }

    public long LastPublishTick => Volatile.Read(ref _lastPublish);

    public bool IsDropped => Volatile.Read(ref _dropped) == 1;

    internal bool HasPending => (!_events.IsEmpty || Volatile.Read(ref _keepAliveWanted) == 1) && !IsDropped;

    public void Write(ResponseEvent item)
    {
        if (IsDropped || Volatile.Read(ref _ended) == 1)
        {
            item.Release();
            return;
        }

        // A socket's body sits in its pooled frame: copy it out now, the frame goes back at once.
        if (item.Kind == ResponseEventKind.Body)
        {
            var bytes = item.Body.ToArray();
            item.Release();
            item = ResponseEvent.BodyOf(bytes);
        }

        _events.Enqueue(item);
        _outbox.Schedule(this);
    }

    /// <summary>Nothing was published for a while: tell the caller the path is alive.</summary>
    public void RequestKeepAlive()
    {
        Volatile.Write(ref _keepAliveWanted, 1);
        _outbox.Schedule(this);
    }

    /// <summary>Stops publishing; whatever is queued is dropped.</summary>
    public void Drop()
    {
        Volatile.Write(ref _dropped, 1);
        _events.Clear();
    }

    /// <summary>Called by the outbox before it drains, so an event arriving meanwhile schedules the sink again.</summary>
    internal bool TrySchedule() => Interlocked.Exchange(ref _scheduled, 1) == 0;

    internal void Unschedule() => Volatile.Write(ref _scheduled, 0);

    /// <summary>Takes what is queued as one batch; null when there is nothing to send.</summary>
    internal RelayBatch? Take(out bool ended, out int bytes)
    {
        ended = false;
        bytes = 0;
        if (IsDropped)
        {
            ended = true;
            return null;
        }

        var keepAlive = Interlocked.Exchange(ref _keepAliveWanted, 0) == 1;
        List<ResponseEvent>? events = null;
        while (bytes <= MaxMergedBodyBytes * 4 && _events.TryDequeue(out var next))
        {
            events ??= new List<ResponseEvent>(4);
            Append(events, next);
            bytes += next.Body.Length + 64;
            if (next.Kind == ResponseEventKind.End)
            {
                ended = true;
                Volatile.Write(ref _ended, 1);
                break;
            }
        }

        // Whatever is left waits for the next envelope; the outbox schedules this sink again.
        if (events is not null)
        {
            return new RelayBatch { RequestId = RequestId, Sequence = _sequence++, Events = [.. events] };
        }

        return keepAlive ? new RelayBatch { RequestId = RequestId, Sequence = RelayBatch.KeepAliveSequence, Events = [] } : null;
    }

    internal void Published() => Volatile.Write(ref _lastPublish, Environment.TickCount64);

    private static void Append(List<ResponseEvent> batch, ResponseEvent next)
    {
        if (next.Kind == ResponseEventKind.Body && batch.Count > 0 && batch[^1] is { Kind: ResponseEventKind.Body } previous
            && previous.Body.Length + next.Body.Length <= MaxMergedBodyBytes)
        {
            var merged = new byte[previous.Body.Length + next.Body.Length];
            previous.Body.Span.CopyTo(merged);
            next.Body.Span.CopyTo(merged.AsSpan(previous.Body.Length));
            batch[^1] = ResponseEvent.BodyOf(merged);
            return;
        }

        batch.Add(next);
    }
}
