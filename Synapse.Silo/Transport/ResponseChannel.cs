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
    private const int Open = 0;
    private const int EndedByAgent = 1;
    private const int EndedHere = 2;

    private int _ended;

    public ResponseChannel(long requestId) => RequestId = requestId;

    public long RequestId { get; }

    public bool HasEnded => Volatile.Read(ref _ended) != Open;

    /// <summary>The agent itself ended the request (done, or failed on its side): nothing is left running there.</summary>
    public bool AgentFinished => Volatile.Read(ref _ended) == EndedByAgent;

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

    public void OnEnd(ResponseEnd end) => End(end.ErrorCode, end.ErrorMessage, EndedByAgent);

    /// <summary>The agent's own end, relayed from the socket's silo; a null code means success.</summary>
    public void OnEnd(string? errorCode, string? message) => End(errorCode, message, EndedByAgent);

    /// <summary>Ends the response from this side (the path to the agent broke); the agent may still be working.</summary>
    public void Fail(string? errorCode, string? message) => End(errorCode, message, EndedHere);

    public void Dispose()
    {
        Interlocked.CompareExchange(ref _ended, EndedHere, Open);
        _events.Writer.TryComplete();
        while (_events.Reader.TryRead(out var item))
        {
            item.Release();
        }
    }

    /// <summary>Exactly one end event; later events are dropped.</summary>
    private void End(string? errorCode, string? message, int how)
    {
        if (Interlocked.CompareExchange(ref _ended, how, Open) == Open)
        {
            _events.Writer.TryWrite(ResponseEvent.ForEnd(errorCode, message));
            _events.Writer.TryComplete();
        }
    }

    private bool Write(ResponseEvent item)
    {
        if (Volatile.Read(ref _ended) != Open || !_events.Writer.TryWrite(item))
        {
            return false;
        }

        return true;
    }
}
