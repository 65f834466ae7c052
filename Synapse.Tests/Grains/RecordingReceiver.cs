using System.Text;
using Synapse.Grains.Responses;

namespace Synapse.Tests.Grains;

/// <summary>A caller's end of a response for relay tests: it keeps the body as text and how the response ended.</summary>
public sealed class RecordingReceiver(long requestId) : IResponseReceiver
{
    private readonly StringBuilder _body = new();
    private int _heads;

    public long RequestId { get; } = requestId;

    public bool HasEnded { get; private set; }

    /// <summary>Null while open or after a successful end; else the error code it ended with.</summary>
    public string? EndedWith { get; private set; }

    public int Heads => Volatile.Read(ref _heads);

    public string Body
    {
        get
        {
            lock (_body)
            {
                return _body.ToString();
            }
        }
    }

    public void Write(ResponseEvent item)
    {
        lock (_body)
        {
            switch (item.Kind)
            {
                case ResponseEventKind.Head:
                    _heads++;
                    break;
                case ResponseEventKind.Body:
                    _body.Append(Encoding.UTF8.GetString(item.Body.Span));
                    break;
                case ResponseEventKind.End:
                    EndedWith = item.ErrorCode;
                    HasEnded = true;
                    break;
            }
        }
    }

    public void Fail(string errorCode, string message)
    {
        lock (_body)
        {
            EndedWith ??= errorCode;
            HasEnded = true;
        }
    }
}
