using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Synapse.Grains.Responses;
using Synapse.Silo.Hosting;
using Synapse.Silo.Observability;
using Synapse.Silo.Transport;
using Synapse.Silo.Usage;

namespace Synapse.Silo.Forwarding;

/// <summary>
/// Copies an event stream to the caller byte for byte, flushing as events arrive (everything that already arrived
/// goes out in one flush). While it waits for the first token the caller gets <c>: keepalive</c> comments, so proxies
/// in between keep the connection. A failure after the head ends the stream with an SSE error event. The usage event
/// is read on the way (and taken out when the gateway asked for it: <see cref="UsageEventFilter"/>). Never throws.
/// </summary>
internal static class EventStreamCopier
{
    private static readonly byte[] KeepAliveComment = ": keepalive\n\n"u8.ToArray();

    public static async Task<AttemptResult> CopyAsync(HttpContext context, ResponseEvent head, UpstreamCall call, ResponseReader reader, StreamUsageMode usage, RequestTelemetry telemetry, GatewayOptions options)
    {
        var writer = context.Response.BodyWriter;
        var cancellationToken = context.RequestAborted;
        var tail = new EventBoundary();
        var committed = false;
        using var filter = new UsageEventFilter(usage);
        try
        {
            while (true)
            {
                var next = await reader.ReadAsync(committed && tail.Any ? null : options.KeepAliveInterval);
                if (next is not { } item)
                {
                    committed = committed || await CommitAsync(context, head, cancellationToken);
                    writer.Write(KeepAliveComment);
                    await writer.FlushAsync(cancellationToken);
                    continue;
                }

                var written = 0;
                while (true)
                {
                    if (item.Kind == ResponseEventKind.Body)
                    {
                        committed = committed || await CommitAsync(context, head, cancellationToken);
                        telemetry.MarkFirstByte();
                        filter.Write(item.Body.Span, writer, ref tail);
                        written += item.Body.Length;
                        item.Release();
                    }
                    else if (item.Kind == ResponseEventKind.End)
                    {
                        filter.Flush(writer, ref tail);
                        return await EndAsync(context, head, item, committed, tail, telemetry.Model);
                    }

                    if (!reader.TryRead(out item))
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
                    return AttemptResult.CallerGone;
                }

                // Credit counts what arrived, not what went out: a held-back partial event still used the window.
                call.Consumed(written);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return AttemptResult.CallerGone;
        }
        catch (InvalidOperationException) when (!context.Response.HasStarted)
        {
            // Kestrel refused the head (the socket's silo checks it; a last guard all the same).
            ResponseHeads.Reset(context.Response);
            return AttemptResult.Failed(new Failure(ForwarderError.UpstreamInvalidResponse), committed: false);
        }
        finally
        {
            // Whatever usage arrived counts, the caller gone or not.
            if (filter.Found)
            {
                telemetry.Usage(filter.InputTokens, filter.OutputTokens);
            }
        }
    }

    private static async Task<AttemptResult> EndAsync(HttpContext context, ResponseEvent head, ResponseEvent end, bool committed, EventBoundary tail, string model)
    {
        var writer = context.Response.BodyWriter;
        var failure = ForwarderErrors.FromEnd(end);
        if (failure is null)
        {
            if (!committed)
            {
                await CommitAsync(context, head, context.RequestAborted);
            }

            await writer.FlushAsync(context.RequestAborted);
            return AttemptResult.Completed;
        }

        if (!committed)
        {
            // Nothing went out: another attempt, or a plain JSON error, is still possible.
            return AttemptResult.Failed(failure.Value, committed: false);
        }

        writer.Write(tail.Terminator);
        writer.Write(ForwarderErrors.SseEvent(model, failure.Value));
        await writer.FlushAsync(context.RequestAborted);
        return AttemptResult.Failed(failure.Value, committed: true);
    }

    /// <summary>Sends the head: the first time anything goes to the caller.</summary>
    private static async ValueTask<bool> CommitAsync(HttpContext context, ResponseEvent head, CancellationToken cancellationToken)
    {
        var response = context.Response;
        ResponseHeads.Apply(response, head);
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(cancellationToken);
        return true;
    }
}
