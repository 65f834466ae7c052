using System.Text;
using Synapse.Grains.Responses;

namespace Synapse.Tests.Unit.Grains.Relay;

/// <summary>
/// The caller's end of one response, as the gateway's own channel behaves: events until exactly one end; what comes
/// after the end never reaches the caller (counted, so a test can see it was dropped).
/// </summary>
internal sealed class RecordingReceiver(long requestId) : IResponseReceiver
{
    private readonly Lock _lock = new();
    private readonly List<ResponseEvent> _events = [];

    public long RequestId { get; } = requestId;

    public bool HasEnded => End is not null;

    /// <summary>The end the caller saw: the agent's, or the gateway's failure.</summary>
    public ResponseEvent? End { get; private set; }

    public int EndsOffered { get; private set; }

    public int WritesAfterEnd { get; private set; }

    /// <summary>The body bytes the caller saw, as text, in order.</summary>
    public string Body
    {
        get
        {
            lock (_lock)
            {
                return string.Concat(_events.Where(e => e.Kind == ResponseEventKind.Body).Select(e => Encoding.UTF8.GetString(e.Body.Span)));
            }
        }
    }

    public IReadOnlyList<ResponseEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    public void Write(ResponseEvent item)
    {
        lock (_lock)
        {
            if (item.Kind == ResponseEventKind.End)
            {
                Ended(item);
            }
            else if (HasEnded)
            {
                WritesAfterEnd++;
            }
            else
            {
                _events.Add(item);
            }
        }
    }

    public void Fail(string errorCode, string message)
    {
        lock (_lock)
        {
            Ended(ResponseEvent.End(errorCode, message));
        }
    }

    private void Ended(ResponseEvent end)
    {
        EndsOffered++;
        End ??= end;
    }
}
