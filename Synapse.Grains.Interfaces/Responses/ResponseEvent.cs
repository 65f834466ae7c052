using System.Buffers;
using Synapse.Protocol.Messages;

namespace Synapse.Grains.Responses;

/// <summary>
/// One piece of a response, the same type from the agent's socket to the caller's handler, whichever way it travels
/// (straight from a socket on this silo, or relayed from another silo). The socket's frames become events once, where
/// they arrive. Body bytes may sit in a pooled buffer (a socket frame), which <see cref="Release"/> returns once
/// written; relayed bodies are plain arrays.
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.ResponseEvent")]
public readonly record struct ResponseEvent
{
    [Id(0)] public ResponseEventKind Kind { get; init; }

    [Id(1)] public int StatusCode { get; init; }

    [Id(2)] public HeaderField[]? Headers { get; init; }

    [Id(3)] public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>On an end: null for success, else the agent's or the gateway's error code.</summary>
    [Id(4)] public string? ErrorCode { get; init; }

    [Id(5)] public string? ErrorMessage { get; init; }

    /// <summary>The pooled buffer under <see cref="Body"/>, when there is one; never serialized.</summary>
    [NonSerialized]
    private readonly byte[]? _pooled;

    public ResponseEvent()
    {
    }

    private ResponseEvent(byte[] pooled, int offset, int count)
    {
        Kind = ResponseEventKind.Body;
        Body = pooled.AsMemory(offset, count);
        _pooled = pooled;
    }

    public bool IsSuccessfulEnd => Kind == ResponseEventKind.End && ErrorCode is null;

    public static ResponseEvent Head(int status, HeaderField[] headers) =>
        new() { Kind = ResponseEventKind.Head, StatusCode = status, Headers = headers };

    public static ResponseEvent Head(ResponseHead head) =>
        Head(head.StatusCode, head.Headers as HeaderField[] ?? [.. head.Headers]);

    /// <summary>Body bytes in a buffer rented from the shared pool; the event owns it until <see cref="Release"/>.</summary>
    public static ResponseEvent PooledBody(byte[] buffer, int offset, int count) => new(buffer, offset, count);

    public static ResponseEvent BodyOf(byte[] bytes) =>
        new() { Kind = ResponseEventKind.Body, Body = bytes };

    public static ResponseEvent End(string? errorCode = null, string? errorMessage = null) =>
        new() { Kind = ResponseEventKind.End, ErrorCode = errorCode, ErrorMessage = errorMessage };

    public static ResponseEvent End(ResponseEnd end) => End(end.ErrorCode, end.ErrorMessage);

    /// <summary>Returns a pooled body buffer; call once, after the bytes were written or dropped.</summary>
    public void Release()
    {
        if (_pooled is not null)
        {
            ArrayPool<byte>.Shared.Return(_pooled);
        }
    }
}
