using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Synapse.Bench.Load.Load;

/// <summary>
/// Holds <see cref="LoadSpec.Concurrency"/> callers, each sending its next request as soon as the last one ended.
/// A session can run in several slices (so that paths can be measured in alternation); its connections stay open
/// between slices, and only requests that start inside a slice's measured window are counted. Streams are read as
/// they arrive: the time of every SSE event is taken when its bytes are read, so time to first token and the gaps
/// between chunks are what a caller sees, not what the whole response took.
/// </summary>
internal sealed class LoadSession : IDisposable
{
    private readonly SocketsHttpHandler _handler;
    private readonly HttpClient _client;
    private readonly Caller[] _callers;
    private int _slices;

    public LoadSession(LoadSpec spec)
    {
        Spec = spec;
        _handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(spec.Concurrency, 1),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        _client = new HttpClient(_handler)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (spec.ApiKey is { } key)
        {
            _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        var uri = new Uri(spec.BaseUrl, "/v1/chat/completions");
        var body = Encoding.UTF8.GetBytes(
            $$"""{"model":"{{spec.Model}}","messages":[{"role":"user","content":"Say hello, {{spec.Tokens}} times."}],"stream":{{(spec.Stream ? "true" : "false")}},"bench_tokens":{{spec.Tokens}},"bench_delay_ms":{{spec.DelayMs}}}""");
        _callers = new Caller[spec.Concurrency];
        for (var i = 0; i < _callers.Length; i++)
        {
            _callers[i] = new Caller(_client, uri, body, spec, i);
        }
    }

    public LoadSpec Spec { get; }

    /// <summary>Seconds measured so far, over all slices.</summary>
    public double MeasuredSeconds { get; private set; }

    /// <summary>
    /// Runs every caller for <paramref name="settle"/> (not counted) and then <paramref name="duration"/> (counted);
    /// returns when the last request that started in the window has ended.
    /// </summary>
    public async Task RunSliceAsync(TimeSpan settle, TimeSpan duration, CancellationToken cancellationToken)
    {
        var windowStart = Stopwatch.GetTimestamp() + Ticks(settle);
        var windowEnd = windowStart + Ticks(duration);

        // On the first slice the callers start spread out: streams paced by a per-token delay over one stream's
        // duration, so that their starts stay evenly spread (a closed loop keeps callers that started together in
        // lockstep, and every measurement would then be of 1,000 requests arriving at once); many callers of fast
        // requests over the first part of the warm-up, not in one burst that would overflow the accept backlog.
        var ramp = _slices > 0 ? TimeSpan.Zero
            : Spec.DelayMs > 0 ? TimeSpan.FromMilliseconds(Math.Min((double)Spec.DelayMs * Spec.Tokens, settle.TotalMilliseconds / 2))
            : Spec.Concurrency > 64 ? TimeSpan.FromTicks(Math.Min(settle.Ticks / 2, TimeSpan.FromSeconds(1).Ticks))
            : TimeSpan.Zero;
        var tasks = new Task[_callers.Length];
        for (var i = 0; i < _callers.Length; i++)
        {
            var caller = _callers[i];
            var delay = ramp * i / _callers.Length;
            var slice = _slices;
            tasks[i] = Task.Run(() => caller.RunAsync(delay, windowStart, windowEnd, slice, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(tasks);
        MeasuredSeconds += duration.TotalSeconds;
        _slices++;
    }

    public LoadResult Result()
    {
        var latency = new Histogram();
        var ttft = new Histogram();
        var gaps = new Histogram();
        long ok = 0;
        long errors = 0;
        long events = 0;
        var errorKinds = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var caller in _callers)
        {
            latency.Add(caller.Latency);
            ttft.Add(caller.FirstToken);
            gaps.Add(caller.Gaps);
            ok += caller.Ok;
            errors += caller.Errors;
            events += caller.Events;
            foreach (var (kind, count) in caller.ErrorKinds)
            {
                errorKinds[kind] = errorKinds.GetValueOrDefault(kind) + count;
            }
        }

        return new LoadResult
        {
            Spec = Spec,
            Ok = ok,
            Errors = errors,
            ErrorKinds = errorKinds,
            Seconds = MeasuredSeconds,
            Slices = _slices,
            RequestsPerSecond = MeasuredSeconds > 0 ? ok / MeasuredSeconds : 0,
            LatencyP50Ms = latency.Percentile(50),
            LatencyP99Ms = latency.Percentile(99),
            LatencyMeanMs = latency.MeanMs,
            TtftP50Ms = Spec.Stream ? ttft.Percentile(50) : null,
            TtftP99Ms = Spec.Stream ? ttft.Percentile(99) : null,
            GapMeanMs = Spec.Stream ? gaps.MeanMs : null,
            GapP99Ms = Spec.Stream ? gaps.Percentile(99) : null,
            EventsPerStream = Spec.Stream && ok + errors > 0 ? (double)events / (ok + errors) : null,
        };
    }

    public void Dispose()
    {
        _client.Dispose();
        _handler.Dispose();
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>One caller: a closed loop of requests, with its own histograms (no locks on the hot path).</summary>
    private sealed class Caller(HttpClient client, Uri uri, byte[] body, LoadSpec spec, int index)
    {
        private const int MaxErrorSamples = 5;
        private static readonly MediaTypeHeaderValue Json = new("application/json");

        public Histogram Latency { get; } = new();

        public Histogram FirstToken { get; } = new();

        public Histogram Gaps { get; } = new();

        public Dictionary<string, long> ErrorKinds { get; } = new(StringComparer.Ordinal);

        public long Ok { get; private set; }

        public long Errors { get; private set; }

        public long Events { get; private set; }

        public async Task RunAsync(TimeSpan startDelay, long windowStart, long windowEnd, int slice, CancellationToken cancellationToken)
        {
            if (startDelay > TimeSpan.Zero)
            {
                await Task.Delay(startDelay, cancellationToken);
            }

            var buffer = new byte[16 * 1024];
            // Per-request scratch, reused: chunk times are recorded only once the request is known to be counted.
            var eventTimes = new List<long>(spec.Tokens + 4);
            var sent = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                if (started >= windowEnd)
                {
                    return;
                }

                var counted = started >= windowStart;
                eventTimes.Clear();
                string? error;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    timeout.CancelAfter(spec.RequestTimeout);
                    error = await SendAsync(spec.Body is { } build ? build(index, slice, sent++) : body, buffer, eventTimes, timeout.Token);
                }

                var ended = Stopwatch.GetTimestamp();
                if (!counted)
                {
                    if (error is not null)
                    {
                        await Task.Delay(5, cancellationToken);
                    }

                    continue;
                }

                Events += eventTimes.Count;
                if (error is not null)
                {
                    Errors++;
                    if (ErrorKinds.Count < MaxErrorSamples || ErrorKinds.ContainsKey(error))
                    {
                        ErrorKinds[error] = ErrorKinds.GetValueOrDefault(error) + 1;
                    }

                    // A gateway failing fast must not turn the load generator into a busy loop.
                    await Task.Delay(5, cancellationToken);
                    continue;
                }

                Ok++;
                Latency.Record(Stopwatch.GetElapsedTime(started, ended).TotalMilliseconds);
                if (eventTimes.Count > 0)
                {
                    FirstToken.Record(Stopwatch.GetElapsedTime(started, eventTimes[0]).TotalMilliseconds);
                    for (var i = 1; i < eventTimes.Count; i++)
                    {
                        Gaps.Record(Stopwatch.GetElapsedTime(eventTimes[i - 1], eventTimes[i]).TotalMilliseconds);
                    }
                }
            }
        }

        /// <summary>One request; null when it succeeded, else what went wrong.</summary>
        private async Task<string?> SendAsync(byte[] requestBody, byte[] buffer, List<long> eventTimes, CancellationToken cancellationToken)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, uri);
                request.Content = new ByteArrayContent(requestBody);
                request.Content.Headers.ContentType = Json;
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    await stream.CopyToAsync(Stream.Null, cancellationToken);
                    return $"HTTP {(int)response.StatusCode}";
                }

                if (!spec.Stream)
                {
                    long total = 0;
                    int read;
                    while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        total += read;
                    }

                    return total > 0 ? null : "empty body";
                }

                var sse = new SseCounter();
                int n;
                while ((n = await stream.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    var now = Stopwatch.GetTimestamp();
                    for (var completed = sse.Feed(buffer.AsSpan(0, n)); completed > 0; completed--)
                    {
                        eventTimes.Add(now);
                    }
                }

                if (sse.ErrorEvent)
                {
                    return "SSE error event";
                }

                // Every token, the finish chunk, and [DONE].
                return !sse.Done ? "stream ended without [DONE]"
                    : sse.Events != spec.Tokens + 2 ? $"stream had {sse.Events} events, expected {spec.Tokens + 2}"
                    : null;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return "cancelled";
            }
            catch (OperationCanceledException)
            {
                return "timeout";
            }
            catch (HttpRequestException ex)
            {
                return $"{ex.HttpRequestError}";
            }
            catch (IOException ex)
            {
                return $"IO: {ex.Message}";
            }
        }
    }
}

/// <summary>One measurement in one go: a warm-up, then the measured window.</summary>
internal static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(LoadSpec spec, CancellationToken cancellationToken = default)
    {
        using var session = new LoadSession(spec);
        await session.RunSliceAsync(spec.Warmup, spec.Duration, cancellationToken);
        return session.Result();
    }
}
