using System.Buffers;
using System.Globalization;
using System.Net;
using Synapse.Client.Upstream;

namespace Synapse.Client.Engine;

/// <summary>
/// GETs one of the engine's own endpoints (<c>/metrics</c>, <c>/slots</c>, <c>/props</c>) with hard bounds, so a
/// broken or hostile engine can never stall the agent or fill its memory: the whole exchange has a time limit below
/// the reading interval and the body a byte cap; bodies are read in pooled buffers. Failures come back as a short
/// reason for the log, never the body's content.
/// </summary>
internal sealed class EngineEndpoint(UpstreamClient upstream, TimeSpan timeout, int maxBodyBytes = EngineEndpoint.DefaultMaxBodyBytes)
{
    /// <summary>vLLM's <c>/metrics</c> with all its histograms is a few hundred KiB; 2 MiB leaves room and bounds the rest.</summary>
    public const int DefaultMaxBodyBytes = 2 * 1024 * 1024;

    /// <summary>A longer line is skipped whole: no gauge the agent reads is that long.</summary>
    public const int MaxLineBytes = 64 * 1024;

    public TimeSpan Timeout => timeout;

    /// <summary>Streams the body of <c>GET path</c> into <paramref name="parser"/> line by line; null when read whole, else why not.</summary>
    public async Task<string?> ReadLinesAsync(string path, EngineMetricsParser parser, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var buffer = ArrayPool<byte>.Shared.Rent(MaxLineBytes);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, upstream.Resolve(path));
            using var response = await upstream.SendAsync(request, deadline.Token);
            if (Refuse(response) is { } refused)
            {
                return refused;
            }

            await using var body = await response.Content.ReadAsStreamAsync(deadline.Token);
            var state = new LineState();
            long total = 0;
            while (true)
            {
                if (state.Filled == buffer.Length)
                {
                    // A line longer than the buffer: drop what we have and skip to its end.
                    state.Filled = 0;
                    state.Skipping = true;
                }

                var read = await body.ReadAsync(buffer.AsMemory(state.Filled), deadline.Token);
                if (read == 0)
                {
                    break;
                }

                total += read;
                if (total > maxBodyBytes)
                {
                    return TooLarge;
                }

                Split(buffer, read, ref state, parser);
            }

            if (state.Filled > 0 && !state.Skipping)
            {
                parser.OnLine(TrimCarriageReturn(buffer.AsSpan(0, state.Filled)));
            }

            return null;
        }
        catch (Exception ex) when (Describe(ex, cancellationToken) is { } reason)
        {
            return reason;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The whole body of <c>GET path</c> in a pooled buffer the caller returns with <see cref="ArrayPool{T}.Shared"/>;
    /// null buffer and a reason when it could not be read.
    /// </summary>
    public async Task<(byte[]? Buffer, int Length, string? Problem)> ReadBodyAsync(string path, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        byte[]? buffer = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, upstream.Resolve(path));
            using var response = await upstream.SendAsync(request, deadline.Token);
            if (Refuse(response) is { } refused)
            {
                return (null, 0, refused);
            }

            await using var body = await response.Content.ReadAsStreamAsync(deadline.Token);
            buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= maxBodyBytes)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return (null, 0, TooLarge);
                    }

                    var grown = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBodyBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = grown;
                }

                var read = await body.ReadAsync(buffer.AsMemory(length), deadline.Token);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > maxBodyBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0, TooLarge);
                }
            }

            return (buffer, length, null);
        }
        catch (Exception ex) when (Describe(ex, cancellationToken) is { } reason)
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return (null, 0, reason);
        }
    }

    private string TooLarge => $"the body is larger than {maxBodyBytes / 1024} KiB";

    private string? Refuse(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return $"HTTP {((int)response.StatusCode).ToString(CultureInfo.InvariantCulture)}";
        }

        return response.Content.Headers.ContentLength > maxBodyBytes ? TooLarge : null;
    }

    /// <summary>Null for exceptions that are not the engine's fault (the agent is stopping): those propagate.</summary>
    private string? Describe(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => null,
        OperationCanceledException => $"no whole answer within {timeout.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms",
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } => "the upstream refuses connections",
        HttpRequestException or IOException => "the connection broke",
        _ => null,
    };

    private static void Split(byte[] buffer, int read, ref LineState state, EngineMetricsParser parser)
    {
        var scan = state.Filled;
        state.Filled += read;
        var start = 0;
        while (true)
        {
            var newline = buffer.AsSpan(scan, state.Filled - scan).IndexOf((byte)'\n');
            if (newline < 0)
            {
                break;
            }

            var end = scan + newline;
            if (!state.Skipping)
            {
                parser.OnLine(TrimCarriageReturn(buffer.AsSpan(start, end - start)));
            }

            state.Skipping = false;
            start = scan = end + 1;
        }

        if (start > 0)
        {
            buffer.AsSpan(start, state.Filled - start).CopyTo(buffer);
            state.Filled -= start;
        }
    }

    private static ReadOnlySpan<byte> TrimCarriageReturn(ReadOnlySpan<byte> line) =>
        line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    private struct LineState
    {
        public int Filled;
        public bool Skipping;
    }
}
