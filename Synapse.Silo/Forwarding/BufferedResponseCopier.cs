using System.Buffers;
using System.IO.Pipelines;
using Synapse.Grains.Responses;
using Synapse.Silo.Hosting;
using Synapse.Silo.Observability;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Forwarding;

/// <summary>
/// Copies an answer that is not an event stream: held (up to <c>NonStreamingBufferBytes</c>) until complete, so that
/// an agent dying midway still gives the caller a clean JSON error or another attempt, never a truncated body. Larger
/// answers are streamed once they pass the limit; a failure after that cuts the connection, so the truncation shows.
/// Never throws.
/// </summary>
internal static class BufferedResponseCopier
{
    public static async Task<AttemptResult> CopyAsync(HttpContext context, ResponseEvent head, UpstreamCall call, ResponseReader reader, RequestTelemetry telemetry, GatewayOptions options)
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
                var item = (await reader.ReadAsync())!.Value;
                if (item.Kind == ResponseEventKind.Body)
                {
                    call.Consumed(item.Body.Length);
                    if (committed)
                    {
                        await response.BodyWriter.WriteAsync(item.Body, cancellationToken);
                        item.Release();
                        continue;
                    }

                    held.Add(item);
                    size += item.Body.Length;
                    if (size > options.NonStreamingBufferBytes)
                    {
                        // Too big to hold: send what there is and stream the rest.
                        ResponseHeads.Apply(response, head);
                        telemetry.MarkFirstByte();
                        committed = true;
                        await WriteHeldAsync(response.BodyWriter, held, cancellationToken);
                    }

                    continue;
                }

                if (item.Kind != ResponseEventKind.End)
                {
                    continue;
                }

                return await EndAsync(context, head, item, held, size, committed, telemetry);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return AttemptResult.CallerGone;
        }
        catch (InvalidOperationException) when (!response.HasStarted)
        {
            ResponseHeads.Reset(response);
            return AttemptResult.Failed(new Failure(ForwarderError.UpstreamInvalidResponse), committed: false);
        }
        finally
        {
            foreach (var item in held)
            {
                item.Release();
            }
        }
    }

    /// <summary>The end came: the whole answer goes out now (or the failure is reported), in one write.</summary>
    private static async Task<AttemptResult> EndAsync(HttpContext context, ResponseEvent head, ResponseEvent end, List<ResponseEvent> held, long size, bool committed, RequestTelemetry telemetry)
    {
        var response = context.Response;
        if (ForwarderErrors.FromEnd(end) is { } failure)
        {
            if (committed)
            {
                // The head is gone; all that is left is to make the truncation visible.
                context.Abort();
            }

            return AttemptResult.Failed(failure, committed);
        }

        if (!committed)
        {
            if (ResponseHeads.Find(head, "Content-Length") is { } declared && declared != size.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                return AttemptResult.Failed(new Failure(ForwarderError.UpstreamInvalidResponse, "Content-Length disagrees with the body"), committed: false);
            }

            ResponseHeads.Apply(response, head);
            response.ContentLength = size;
            telemetry.UsageFromAnswer(held, size);
            telemetry.MarkFirstByte();
            await WriteHeldAsync(response.BodyWriter, held, context.RequestAborted);
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
        return AttemptResult.Completed;
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
}
