using System.Buffers;
using System.IO.Pipelines;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Hosting;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// Writes an upstream response to the caller. Event streams pass through byte for byte and are flushed as events
/// arrive; a failure midway ends them with an SSE error event. Other answers are held (up to a limit) until
/// complete, so a failure midway still becomes a clean 502 JSON error.
/// </summary>
internal static class ResponseCopier
{
    public static Task<CopyOutcome> CopyAsync(HttpContext context, ResponseEvent head, UpstreamCall call, GatewayOptions options, CancellationToken cancellationToken)
    {
        var contentType = FindHeader(head, "Content-Type");
        return contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase)
            ? CopyEventStreamAsync(context, head, call, cancellationToken)
            : CopyBufferedAsync(context, head, call, options.NonStreamingBufferBytes, cancellationToken);
    }

    private static async Task<CopyOutcome> CopyEventStreamAsync(HttpContext context, ResponseEvent head, UpstreamCall call, CancellationToken cancellationToken)
    {
        var response = context.Response;
        ApplyHead(response, head);
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();

        var writer = response.BodyWriter;
        var tail = new EventBoundary();
        try
        {
            await response.StartAsync(cancellationToken);
            while (true)
            {
                var item = await call.Channel.ReadAsync(cancellationToken);
                var written = 0;
                // Whatever else already arrived goes out in the same flush: no added delay, fewer syscalls.
                while (true)
                {
                    if (item.Kind == ResponseEventKind.Body)
                    {
                        writer.Write(item.Body.Span);
                        tail.Observe(item.Body.Span);
                        written += item.Count;
                        item.Release();
                    }
                    else if (item.Kind == ResponseEventKind.End)
                    {
                        if (item.ErrorCode is not null)
                        {
                            var (_, message) = UpstreamErrors.Describe(item.ErrorCode, item.ErrorMessage);
                            writer.Write(tail.Terminator);
                            writer.Write(OpenAIError.SseEvent(OpenAIError.Server, item.ErrorCode, message));
                        }

                        await writer.FlushAsync(cancellationToken);
                        return item.ErrorCode is null ? CopyOutcome.Completed : CopyOutcome.UpstreamFailed;
                    }

                    if (!call.Channel.TryRead(out item))
                    {
                        break;
                    }
                }

                var flushed = await writer.FlushAsync(cancellationToken);
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    return CopyOutcome.CallerGone;
                }

                call.Consumed(written);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return CopyOutcome.CallerGone;
        }
    }

    private static async Task<CopyOutcome> CopyBufferedAsync(HttpContext context, ResponseEvent head, UpstreamCall call, int bufferLimit, CancellationToken cancellationToken)
    {
        var held = new List<ResponseEvent>();
        long size = 0;
        var committed = false;
        var response = context.Response;
        try
        {
            while (true)
            {
                var item = await call.Channel.ReadAsync(cancellationToken);
                if (item.Kind == ResponseEventKind.Body)
                {
                    if (committed)
                    {
                        await response.BodyWriter.WriteAsync(item.Body, cancellationToken);
                        call.Consumed(item.Count);
                        item.Release();
                        continue;
                    }

                    held.Add(item);
                    size += item.Count;
                    call.Consumed(item.Count);
                    if (size > bufferLimit)
                    {
                        // Too big to hold: send what we have and stream the rest.
                        ApplyHead(response, head);
                        await WriteHeldAsync(response.BodyWriter, held, cancellationToken);
                        committed = true;
                    }

                    continue;
                }

                if (item.Kind != ResponseEventKind.End)
                {
                    continue;
                }

                if (item.ErrorCode is not null)
                {
                    if (committed)
                    {
                        // Headers are gone; all that is left is to make the truncation visible.
                        context.Abort();
                        return CopyOutcome.UpstreamFailed;
                    }

                    var (status, message) = UpstreamErrors.Describe(item.ErrorCode, item.ErrorMessage);
                    await OpenAIError.WriteAsync(context, status, OpenAIError.Server, item.ErrorCode, message);
                    return CopyOutcome.UpstreamFailed;
                }

                if (!committed)
                {
                    ApplyHead(response, head);
                    response.ContentLength = size;
                    await WriteHeldAsync(response.BodyWriter, held, cancellationToken);
                }

                await response.BodyWriter.FlushAsync(cancellationToken);
                return CopyOutcome.Completed;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return CopyOutcome.CallerGone;
        }
        finally
        {
            foreach (var item in held)
            {
                item.Release();
            }
        }
    }

    private static async Task WriteHeldAsync(PipeWriter writer, List<ResponseEvent> held, CancellationToken cancellationToken)
    {
        foreach (var item in held)
        {
            writer.Write(item.Body.Span);
            item.Release();
        }

        held.Clear();
        await writer.FlushAsync(cancellationToken);
    }

    private static void ApplyHead(HttpResponse response, ResponseEvent head)
    {
        response.StatusCode = head.StatusCode;
        foreach (var header in head.Headers ?? [])
        {
            if (!HeaderPolicy.IsReturned(header.Name) || header.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            response.Headers.Append(header.Name, header.Value);
        }
    }

    private static string? FindHeader(ResponseEvent head, string name)
    {
        foreach (var header in head.Headers ?? [])
        {
            if (header.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return header.Value;
            }
        }

        return null;
    }

    /// <summary>Tracks the stream's last bytes, so an error event starts on an event boundary.</summary>
    private struct EventBoundary
    {
        private byte _last;
        private byte _beforeLast;
        private bool _any;

        public void Observe(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length >= 2)
            {
                _beforeLast = bytes[^2];
                _last = bytes[^1];
            }
            else if (bytes.Length == 1)
            {
                _beforeLast = _last;
                _last = bytes[0];
            }

            _any |= bytes.Length > 0;
        }

        public readonly ReadOnlySpan<byte> Terminator =>
            !_any || (_last == '\n' && _beforeLast == '\n') ? [] : _last == '\n' ? "\n"u8 : "\n\n"u8;
    }
}
