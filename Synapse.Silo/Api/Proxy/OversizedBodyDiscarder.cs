using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// After a 413, lets a caller that is still sending its body read the answer. Closing on a caller mid-upload resets
/// the connection, and most clients then report "connection reset" instead of "request too large". So a body whose
/// declared length is within twice the limit is read and thrown away (bounded in time) after the answer went out,
/// as nginx's lingering close does; anything bigger gets <c>Connection: close</c> and no such courtesy.
/// </summary>
internal static class OversizedBodyDiscarder
{
    private const long MaxDiscardBytes = 64L * 1024 * 1024;
    private static readonly TimeSpan MaxDiscardTime = TimeSpan.FromSeconds(5);

    /// <summary>Before the answer: true when the body will be discarded afterwards; otherwise the connection closes.</summary>
    public static bool Prepare(HttpContext context, long limit)
    {
        var length = context.Request.ContentLength;
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        // A caller that asked "100-continue" has not sent its body and will not: nothing to discard.
        var waitsToSend = context.Request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase);
        if (!waitsToSend && length is { } declared && declared <= Math.Min(limit * 2, MaxDiscardBytes) && sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = declared;
            return true;
        }

        context.Response.Headers.Connection = "close";
        return false;
    }

    /// <summary>After the answer: reads the rest of the body into a scratch buffer, or gives up and closes.</summary>
    public static async Task DiscardAsync(HttpContext context)
    {
        await context.Response.CompleteAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(MaxDiscardTime);
        var scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (await context.Request.Body.ReadAsync(scratch, timeout.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            context.Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
