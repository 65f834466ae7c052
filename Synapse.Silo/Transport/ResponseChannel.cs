using System.Threading.Channels;
using Synapse.Grains.Responses;

namespace Synapse.Silo.Transport;

/// <summary>
/// Hands one response from whoever receives it (the local socket, or this silo's inbox stream) to the HTTP handler
/// writing it. Unbounded here because the agent's flow-control window already bounds it; exactly one end event.
/// </summary>
internal sealed class ResponseChannel(long requestId) : IResponseReceiver, IDisposable
{
    private const int Open = 0;
    private const int EndedByAgent = 1;
    private const int EndedHere = 2;

    private readonly Channel<ResponseEvent> _events = Channel.CreateUnbounded<ResponseEvent>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });

    private int _ended;

    public long RequestId { get; } = requestId;

    public bool HasEnded => Volatile.Read(ref _ended) != Open;

    /// <summary>The agent's side ended the request (done, or failed there): nothing is left running on the agent.</summary>
    public bool AgentFinished => Volatile.Read(ref _ended) == EndedByAgent;

    public ValueTask<ResponseEvent> ReadAsync(CancellationToken cancellationToken) => _events.Reader.ReadAsync(cancellationToken);

    public bool TryRead(out ResponseEvent item) => _events.Reader.TryRead(out item);

    public void Write(ResponseEvent item)
    {
        if (item.Kind == ResponseEventKind.End)
        {
            End(item, EndedByAgent);
        }
        else if (Volatile.Read(ref _ended) != Open || !_events.Writer.TryWrite(item))
        {
            item.Release();
        }
    }

    /// <summary>Ends the response from this side (the path to the agent broke); the agent may still be working.</summary>
    public void Fail(string errorCode, string message) => End(ResponseEvent.End(errorCode, message), EndedHere);

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
    private void End(ResponseEvent end, int how)
    {
        if (Interlocked.CompareExchange(ref _ended, how, Open) == Open)
        {
            _events.Writer.TryWrite(end);
            _events.Writer.TryComplete();
        }
    }
}
