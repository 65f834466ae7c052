using System.Buffers;
using System.IO.Pipelines;
using Synapse.Protocol.Messages;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Hosting;
using Synapse.Silo.Observability;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// Writes an upstream response to the caller. Event streams pass through byte for byte and are flushed as events
/// arrive; a failure midway ends them with an SSE error event. Other answers are held (up to a limit) until
/// complete, so a failure midway still becomes a clean 502 JSON error. Nothing is sent to the caller before the
/// first body bytes, so a path that breaks before then is retried instead of failing the call.
/// </summary>
internal static class ResponseCopier
{
    private static readonly byte[] KeepAliveComment = ": keepalive\n\n"u8.ToArray();

    public static Task<(CopyOutcome Outcome, string? ErrorCode)> CopyAsync(HttpContext context, ResponseEvent head, UpstreamCall call, TimedResponseReader reader, RequestTelemetry telemetry, GatewayOptions options)
    {
        var contentType = FindHeader(head, "Content-Type");
        return contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase)
            ? CopyEventStreamAsync(context, head, call, reader, telemetry, options)
            : CopyBufferedAsync(context, head, call, reader, telemetry, options);
    }

    private static async Task<(CopyOutcome, string?)> CopyEventStreamAsync(HttpContext context, ResponseEvent head, UpstreamCall call, TimedResponseReader reader, RequestTelemetry telemetry, GatewayOptions options)
    {
        var response = context.Response;
        var writer = response.BodyWriter;
        var cancellationToken = context.RequestAborted;
        var tail = new EventBoundary();
        var committed = false;
        var idleSince = Environment.TickCount64;
        try
        {
            while (true)
            {
                var idleLeft = options.IdleTimeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - idleSince);
                var wait = committed && tail.Any ? idleLeft : Min(idleLeft, options.KeepAliveInterval);
                var (timedOut, item) = await reader.ReadAsync(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1));
                if (timedOut)
                {
                    if (Environment.TickCount64 - idleSince >= options.IdleTimeout.TotalMilliseconds)
                    {
                        call.Cancel();
                        item = ResponseEvent.ForEnd(AgentErrorCodes.IdleTimeout, null);
                    }
                    else
                    {
                        // Still waiting for the first token: keep proxies in between from timing the caller out.
                        committed = await CommitAsync(context, head, committed, cancellationToken);
                        writer.Write(KeepAliveComment);
                        await writer.FlushAsync(cancellationToken);
                        continue;
                    }
                }

                idleSince = Environment.TickCount64;
                var written = 0;

                // Whatever else already arrived goes out in the same flush: no added delay, fewer syscalls.
                while (true)
                {
                    if (item.Kind == ResponseEventKind.Body)
                    {
                        committed = await CommitAsync(context, head, committed, cancellationToken);
                        telemetry.MarkFirstByte();
                        if (UsageReader.TryReadFromEvents(item.Body.Span, out var input, out var output))
                        {
                            telemetry.Usage(input, output);
                        }

                        writer.Write(item.Body.Span);
                        tail.Observe(item.Body.Span);
                        written += item.Count;
                        item.Release();
                    }
                    else if (item.Kind == ResponseEventKind.End)
                    {
                        if (!committed && item.ErrorCode is { } code && AgentErrorCodes.IsPathFailure(code))
                        {
                            return (CopyOutcome.PathFailedBeforeCommit, item.ErrorCode);
                        }

                        committed = await CommitAsync(context, head, committed, cancellationToken);
                        if (item.ErrorCode is not null)
                        {
                            var (_, message) = UpstreamErrors.Describe(item.ErrorCode, item.ErrorMessage);
                            writer.Write(tail.Terminator);
                            writer.Write(OpenAIError.SseEvent(OpenAIError.Server, item.ErrorCode, message));
                        }

                        await writer.FlushAsync(cancellationToken);
                        return (item.ErrorCode is null ? CopyOutcome.Completed : CopyOutcome.UpstreamFailed, item.ErrorCode);
                    }

                    if (!call.Channel.TryRead(out item))
                    {
                        break;
                    }
                }

                if (written == 0)
                {
                    continue;
                }

                var flushed = await writer.FlushAsync(cancellationToken);
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    return (CopyOutcome.CallerGone, null);
                }

                call.Consumed(written);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return (CopyOutcome.CallerGone, null);
        }
    }

    /// <summary>Sends the head the first time anything goes to the caller.</summary>
    private static async ValueTask<bool> CommitAsync(HttpContext context, ResponseEvent head, bool committed, CancellationToken cancellationToken)
    {
        if (committed)
        {
            return true;
        }

        var response = context.Response;
        ApplyHead(response, head);
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(cancellationToken);
        return true;
    }

    private static async Task<(CopyOutcome, string?)> CopyBufferedAsync(HttpContext context, ResponseEvent head, UpstreamCall call, TimedResponseReader reader, RequestTelemetry telemetry, GatewayOptions options)
    {
        var held = new List<ResponseEvent>();
        long size = 0;
        var committed = false;
        var response = context.Response;
        var cancellationToken = context.RequestAborted;
        try
        {
            while (true)
            {
                var (timedOut, item) = await reader.ReadAsync(options.IdleTimeout);
                if (timedOut)
                {
                    call.Cancel();
                    item = ResponseEvent.ForEnd(AgentErrorCodes.IdleTimeout, null);
                }

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
                    if (size > options.NonStreamingBufferBytes)
                    {
                        // Too big to hold: send what we have and stream the rest.
                        ApplyHead(response, head);
                        telemetry.MarkFirstByte();
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
                        return (CopyOutcome.UpstreamFailed, item.ErrorCode);
                    }

                    if (AgentErrorCodes.IsPathFailure(item.ErrorCode))
                    {
                        return (CopyOutcome.PathFailedBeforeCommit, item.ErrorCode);
                    }

                    var (status, message) = UpstreamErrors.Describe(item.ErrorCode, item.ErrorMessage);
                    await OpenAIError.WriteAsync(context, status, OpenAIError.Server, item.ErrorCode, message);
                    return (CopyOutcome.UpstreamFailed, item.ErrorCode);
                }

                if (!committed)
                {
                    ApplyHead(response, head);
                    response.ContentLength = size;
                    ReadUsage(held, size, telemetry);
                    telemetry.MarkFirstByte();
                    await WriteHeldAsync(response.BodyWriter, held, cancellationToken);
                }

                await response.BodyWriter.FlushAsync(cancellationToken);
                return (CopyOutcome.Completed, null);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return (CopyOutcome.CallerGone, null);
        }
        finally
        {
            foreach (var item in held)
            {
                item.Release();
            }
        }
    }

    private static void ReadUsage(List<ResponseEvent> held, long size, RequestTelemetry telemetry)
    {
        if (held.Count == 0)
        {
            return;
        }

        long input;
        long output;
        if (held.Count == 1)
        {
            if (UsageReader.TryRead(held[0].Body.Span, out input, out output))
            {
                telemetry.Usage(input, output);
            }

            return;
        }

        var whole = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            var offset = 0;
            foreach (var item in held)
            {
                item.Body.Span.CopyTo(whole.AsSpan(offset));
                offset += item.Count;
            }

            if (UsageReader.TryRead(whole.AsSpan(0, offset), out input, out output))
            {
                telemetry.Usage(input, output);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(whole);
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

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Tracks the stream's last bytes, so an error event starts on an event boundary.</summary>
    private struct EventBoundary
    {
        private byte _last;
        private byte _beforeLast;

        public bool Any { get; private set; }

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

            Any |= bytes.Length > 0;
        }

        public readonly ReadOnlySpan<byte> Terminator =>
            !Any || (_last == '\n' && _beforeLast == '\n') ? [] : _last == '\n' ? "\n"u8 : "\n\n"u8;
    }
}
