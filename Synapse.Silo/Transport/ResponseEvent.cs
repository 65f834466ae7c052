using System.Buffers;
using Synapse.Protocol.Messages;

namespace Synapse.Silo.Transport;

/// <summary>
/// One piece of a response as the caller's handler reads it, whichever way it came (local socket or stream).
/// Body bytes may sit in a pooled buffer, which <see cref="Release"/> returns once they are written.
/// </summary>
internal readonly struct ResponseEvent
{
    private ResponseEvent(ResponseEventKind kind, int status, IReadOnlyList<HeaderField>? headers, byte[]? buffer, int offset, int count, bool pooled, string? errorCode, string? errorMessage)
    {
        Kind = kind;
        StatusCode = status;
        Headers = headers;
        Buffer = buffer;
        Offset = offset;
        Count = count;
        Pooled = pooled;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
    }

    public ResponseEventKind Kind { get; }

    public int StatusCode { get; }

    public IReadOnlyList<HeaderField>? Headers { get; }

    public byte[]? Buffer { get; }

    public int Offset { get; }

    public int Count { get; }

    public bool Pooled { get; }

    public string? ErrorCode { get; }

    public string? ErrorMessage { get; }

    public ReadOnlyMemory<byte> Body => Buffer.AsMemory(Offset, Count);

    public bool IsSuccessfulEnd => Kind == ResponseEventKind.End && ErrorCode is null;

    public static ResponseEvent ForHead(int status, IReadOnlyList<HeaderField> headers) =>
        new(ResponseEventKind.Head, status, headers, null, 0, 0, false, null, null);

    public static ResponseEvent ForBody(byte[] buffer, int offset, int count, bool pooled) =>
        new(ResponseEventKind.Body, 0, null, buffer, offset, count, pooled, null, null);

    public static ResponseEvent ForEnd(string? errorCode, string? errorMessage) =>
        new(ResponseEventKind.End, 0, null, null, 0, 0, false, errorCode, errorMessage);

    public void Release()
    {
        if (Pooled && Buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
        }
    }
}
