using Microsoft.AspNetCore.Http.Features;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// Lets a caller that is still sending an oversized body read its 413. Closing on a caller mid-upload resets the
/// connection, and most clients then report "connection reset" instead of "request too large". Kestrel already
/// drains an unread body after the response (for up to 5 s), but only up to the body size limit: raising the limit
/// to the declared length lets it do so, as nginx's lingering close does, for bodies up to twice the limit or
/// 64 MiB, whichever is more (a small limit must not turn a slightly oversized upload into a reset). Anything
/// bigger gets <c>Connection: close</c>.
/// </summary>
internal static class OversizedBodyDrain
{
    private const long MaxDrainBytes = 64L * 1024 * 1024;

    /// <summary>Before the 413 goes out.</summary>
    public static void Allow(HttpContext context, long limit)
    {
        var length = context.Request.ContentLength;
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();

        // A caller that asked "100-continue" has not sent its body and will not: nothing to drain.
        var waitsToSend = context.Request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase);
        if (!waitsToSend && length is { } declared && declared <= Math.Max(limit * 2, MaxDrainBytes) && sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = declared;
            return;
        }

        context.Response.Headers.Connection = "close";
    }
}
