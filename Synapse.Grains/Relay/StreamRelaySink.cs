using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Synapse.Grains.Agents;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;

namespace Synapse.Grains.Relay;

/// <summary>
/// Publishes one request's response to the caller silo's inbox stream. Events that pile up while a publish is in
/// flight go out together as one batch (adjacent body chunks merged), which keeps the stream hop cheap under load.
/// A publish that fails (the stream's queue lived on a silo that just died) is retried until the queue is back.
/// Memory is bounded by the agent's flow-control window, not here.
/// </summary>
internal sealed partial class StreamRelaySink : IResponseSink
{
    private const int MaxMergedBodyBytes = 64 * 1024;

    private static readonly RelayEvent KeepAliveMarker = new() { Kind = RelayEventKind.End, ErrorCode = "keepalive" };

    private readonly RelayPublisher _owner;
    private readonly IAsyncStream<RelayBatch> _stream;
    private readonly Channel<RelayEvent> _events = Channel.CreateUnbounded<RelayEvent>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private int _sequence;
    private long _lastPublish = Environment.TickCount64;

    public StreamRelaySink(RelayPublisher owner, IAsyncStream<RelayBatch> stream, long requestId, SiloAddress replyTo, ILocalAgentConnection connection)
    {
        _owner = owner;
        _stream = stream;
        RequestId = requestId;
        ReplyTo = replyTo;
        Connection = connection;

        // Proves the path to the caller at once; it rides along with the head when that is already there.
        _events.Writer.TryWrite(KeepAliveMarker);
        _ = Task.Run(PumpAsync);
    }

    public long RequestId { get; }

    public SiloAddress ReplyTo { get; }

    public ILocalAgentConnection Connection { get; }

    public long LastPublishTick => Volatile.Read(ref _lastPublish);

    public void OnHead(ResponseHead head) =>
        _events.Writer.TryWrite(new RelayEvent
        {
            Kind = RelayEventKind.Head,
            StatusCode = head.StatusCode,
            Headers = head.Headers as HeaderField[] ?? [.. head.Headers],
        });

    public void OnBody(Frame frame, int offset)
    {
        var body = frame.Buffer.AsSpan(offset, frame.Length - offset).ToArray();
        frame.Return();
        _events.Writer.TryWrite(new RelayEvent { Kind = RelayEventKind.Body, Body = body });
    }

    public void OnEnd(ResponseEnd end)
    {
        _events.Writer.TryWrite(new RelayEvent
        {
            Kind = RelayEventKind.End,
            ErrorCode = end.ErrorCode,
            ErrorMessage = end.ErrorMessage,
        });
        _events.Writer.TryComplete();
    }

    /// <summary>Nothing was published for a while: tell the caller the path is alive.</summary>
    public void RequestKeepAlive() => _events.Writer.TryWrite(KeepAliveMarker);

    /// <summary>Stops publishing; whatever is queued is dropped.</summary>
    public void Drop() => _events.Writer.TryComplete(new OperationCanceledException());

    private async Task PumpAsync()
    {
        var batch = new List<RelayEvent>(8);
        try
        {
            while (await _events.Reader.WaitToReadAsync())
            {
                var ended = false;
                var keepAlive = false;
                while (!ended && batch.Count < 64 && _events.Reader.TryRead(out var next))
                {
                    if (ReferenceEquals(next, KeepAliveMarker))
                    {
                        keepAlive = true;
                        continue;
                    }

                    Append(batch, next);
                    ended = next.Kind == RelayEventKind.End;
                }

                RelayBatch item;
                if (batch.Count > 0)
                {
                    item = new RelayBatch { RequestId = RequestId, Sequence = _sequence++, Events = [.. batch] };
                }
                else if (keepAlive)
                {
                    item = new RelayBatch { RequestId = RequestId, Sequence = RelayBatch.KeepAliveSequence, Events = [] };
                }
                else
                {
                    continue;
                }

                if (!await PublishAsync(item))
                {
                    Connection.Cancel(RequestId);
                    return;
                }

                batch.Clear();
                if (ended)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Dropped because the caller's silo is gone.
        }
        finally
        {
            _owner.Completed(this);
        }
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

    private async Task<bool> PublishAsync(RelayBatch batch)
    {
        var deadline = Environment.TickCount64 + (long)_owner.Options.PublishRetryWindow.TotalMilliseconds;
        var delay = 50;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _stream.OnNextAsync(batch);
                Volatile.Write(ref _lastPublish, Environment.TickCount64);
                return true;
            }
            catch (Exception ex) when (Environment.TickCount64 < deadline)
            {
                LogPublishRetry(_owner.Logger, ex, RequestId, attempt);
                await Task.Delay(delay);
                delay = Math.Min(delay * 2, 1000);
            }
            catch (Exception ex)
            {
                LogPublishFailed(_owner.Logger, ex, RequestId, ReplyTo);
                return false;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Publishing response of request {RequestId} failed (attempt {Attempt}); retrying")]
    private static partial void LogPublishRetry(ILogger logger, Exception exception, long requestId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the response of request {RequestId} to silo {Silo}; cancelling it")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, long requestId, SiloAddress silo);
}
