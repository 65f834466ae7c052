using System.Threading.Channels;
using Synapse.Grains.Agents;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;

namespace Synapse.Silo.Transport;

/// <summary>
/// Hands one response from whoever receives it (the local socket, or this silo's inbox stream) to the HTTP handler
/// writing it. Unbounded here because the agent's flow-control window already bounds it; exactly one end event.
/// </summary>
internal sealed class ResponseChannel : IResponseSink, IDisposable
{
    private readonly Channel<ResponseEvent> _events = Channel.CreateUnbounded<ResponseEvent>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });
    private int _ended;

    public ResponseChannel(long requestId) => RequestId = requestId;

    public long RequestId { get; }

    public bool HasEnded => Volatile.Read(ref _ended) == 1;

    public ValueTask<ResponseEvent> ReadAsync(CancellationToken cancellationToken) => _events.Reader.ReadAsync(cancellationToken);

    public bool TryRead(out ResponseEvent item) => _events.Reader.TryRead(out item);

    public void OnHead(ResponseHead head) => Write(ResponseEvent.ForHead(head.StatusCode, head.Headers));

    public void OnHead(int status, IReadOnlyList<HeaderField> headers) => Write(ResponseEvent.ForHead(status, headers));

    public void OnBody(Frame frame, int offset)
    {
        if (!Write(ResponseEvent.ForBody(frame.Buffer, offset, frame.Length - offset, pooled: true)))
        {
            frame.Return();
        }
    }

    public void OnBody(byte[] body) => Write(ResponseEvent.ForBody(body, 0, body.Length, pooled: false));

    public void OnEnd(ResponseEnd end) => Fail(end.ErrorCode, end.ErrorMessage);

    /// <summary>Ends the response; a null code means success. Later events are dropped.</summary>
    public void Fail(string? errorCode, string? message)
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            _events.Writer.TryWrite(ResponseEvent.ForEnd(errorCode, message));
            _events.Writer.TryComplete();
        }
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _ended, 1);
        _events.Writer.TryComplete();
        while (_events.Reader.TryRead(out var item))
        {
            item.Release();
        }
    }

    private bool Write(ResponseEvent item)
    {
        if (Volatile.Read(ref _ended) == 1 || !_events.Writer.TryWrite(item))
        {
            return false;
        }

        return true;
    }
}
