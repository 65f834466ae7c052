using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// Reads a request body into a pooled buffer, enforcing the size limit whether or not the caller sent a
/// Content-Length (Kestrel stops a chunked body at the limit).
/// </summary>
internal static class RequestBodyReader
{
    public static async Task<BodyReadResult> ReadAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return BodyReadResult.TooLarge;
        }

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var capacity = (int)Math.Min(request.ContentLength ?? 4096, limit);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= limit)
                    {
                        // Exactly at the limit: one more byte means too large.
                        if (await request.Body.ReadAsync(new byte[1], context.RequestAborted) > 0)
                        {
                            ArrayPool<byte>.Shared.Return(buffer);
                            return BodyReadResult.TooLarge;
                        }

                        break;
                    }

                    buffer = Grow(buffer, length, limit);
                }

                var room = (int)Math.Min(buffer.Length - length, limit - length);
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, Math.Max(room, 1)), context.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return BodyReadResult.TooLarge;
                }
            }

            return new BodyReadResult(new PooledBody(buffer, length), BodyReadStatus.Ok);
        }
        catch (Exception ex) when (ex is BadHttpRequestException or OperationCanceledException or IOException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return Classify(ex, context);
        }
    }

    private static byte[] Grow(byte[] buffer, int length, long limit)
    {
        var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
        buffer.AsSpan(0, length).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(buffer);
        return grown;
    }

    private static BodyReadResult Classify(Exception exception, HttpContext context) => exception switch
    {
        // Kestrel says 408 when the body came slower than the minimum data rate (stalled or trickled): the request
        // was not malformed, the caller was too slow.
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => BodyReadResult.TooLarge,
        BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout } => BodyReadResult.TooSlow,
        BadHttpRequestException => BodyReadResult.Malformed,

        // Kestrel also throws a bare IOException for framing it refuses (a chunk size that overflows) while the
        // caller is still there: that one gets an answer, not silence (which would go out as an empty 200).
        OperationCanceledException => BodyReadResult.CallerGone,
        _ when context.RequestAborted.IsCancellationRequested => BodyReadResult.CallerGone,
        _ => BodyReadResult.Malformed,
    };
}

internal enum BodyReadStatus
{
    Ok,
    TooLarge,
    Malformed,
    TooSlow,
    CallerGone,
}

internal readonly record struct BodyReadResult(PooledBody? Body, BodyReadStatus Status)
{
    public static BodyReadResult TooLarge => new(null, BodyReadStatus.TooLarge);

    public static BodyReadResult Malformed => new(null, BodyReadStatus.Malformed);

    public static BodyReadResult TooSlow => new(null, BodyReadStatus.TooSlow);

    public static BodyReadResult CallerGone => new(null, BodyReadStatus.CallerGone);
}
