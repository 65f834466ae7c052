using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Synapse.Bench.Load.Load;

namespace Synapse.Bench.Load.Soak;

/// <summary>One kind of caller in the soak's mix: what it asks for, how many of it, how long it waits between calls.</summary>
internal sealed record SoakCallerKind(string Name, bool Stream, int Tokens, int DelayMs, int Callers, TimeSpan Think, double WalkAway)
{
    /// <summary>How long a call of this kind should take at most on a healthy gateway (the upstream's pacing).</summary>
    public TimeSpan Expected => TimeSpan.FromMilliseconds((double)Tokens * DelayMs);
}

/// <summary>
/// The soak's callers: closed loops of mixed streaming and non-streaming calls through the balancer, some of them
/// walking away mid-call (a stream dropped after its first event, a chat call cancelled after a few milliseconds).
/// Every call has a deadline of its expected time plus <see cref="SoakSettings.HungAfter"/>: one still running then is
/// hung, counted and cancelled, so the run always ends.
/// </summary>
internal sealed class SoakCallers : IDisposable
{
    private static readonly TimeSpan ErrorPause = TimeSpan.FromMilliseconds(100);
    private readonly SocketsHttpHandler _handler;
    private readonly HttpClient _client;
    private readonly Uri _url;
    private readonly TimeSpan _hungAfter;
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, long> _inFlight = new();
    private long _ok;
    private long _failed;
    private long _walkedAway;
    private long _hung;
    private long _ids;

    public SoakCallers(Uri gateway, TimeSpan hungAfter)
    {
        _url = new Uri(gateway, "/v1/chat/completions");
        _hungAfter = hungAfter;
        _handler = new SocketsHttpHandler
        {
            // Connections are replaced now and then, so callers spread again over the silos after a restart.
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(10),
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
    }

    public long Ok => Interlocked.Read(ref _ok);

    public long Failed => Interlocked.Read(ref _failed);

    public long WalkedAway => Interlocked.Read(ref _walkedAway);

    public long Hung => Interlocked.Read(ref _hung);

    public int InFlight => _inFlight.Count;

    /// <summary>The oldest call still running, in seconds (0 when none is).</summary>
    public double OldestInFlightSeconds =>
        _inFlight.Values.DefaultIfEmpty(Stopwatch.GetTimestamp()).Min() is var oldest ? Stopwatch.GetElapsedTime(oldest).TotalSeconds : 0;

    public IReadOnlyDictionary<string, long> Errors => new SortedDictionary<string, long>(_errors, StringComparer.Ordinal);

    /// <summary>Runs every caller of every kind until <paramref name="stop"/>; returns once the last call has ended.</summary>
    public Task RunAsync(IReadOnlyList<SoakCallerKind> kinds, CancellationToken stop)
    {
        var tasks = new List<Task>();
        var seed = 1;
        foreach (var kind in kinds)
        {
            for (var i = 0; i < kind.Callers; i++)
            {
                var random = new Random(seed++);
                // Spread the starts over a second so the callers do not stay in lockstep.
                var start = TimeSpan.FromMilliseconds(random.Next(1000));
                tasks.Add(Task.Run(() => CallerAsync(kind, random, start, stop), CancellationToken.None));
            }
        }

        return Task.WhenAll(tasks);
    }

    private async Task CallerAsync(SoakCallerKind kind, Random random, TimeSpan start, CancellationToken stop)
    {
        try
        {
            await Task.Delay(start, stop);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var body = Encoding.UTF8.GetBytes(
            $$"""{"model":"bench-model","messages":[{"role":"user","content":"soak"}],"stream":{{(kind.Stream ? "true" : "false")}},"bench_tokens":{{kind.Tokens}},"bench_delay_ms":{{kind.DelayMs}}}""");
        var buffer = new byte[16 * 1024];
        while (!stop.IsCancellationRequested)
        {
            var walkAway = random.NextDouble() < kind.WalkAway;
            var failed = !await CallAsync(kind, body, buffer, walkAway ? random.Next(1, 20) : null);
            // A gateway failing fast (no instance left, a silo going away) must not turn a caller into a busy loop.
            var pause = failed ? kind.Think + ErrorPause : kind.Think;
            if (pause > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(pause, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// One call; false when it failed. A caller that walks away leaves a stream after its first event, a chat call
    /// after <paramref name="walkAwayMs"/>.
    /// </summary>
    private async Task<bool> CallAsync(SoakCallerKind kind, byte[] body, byte[] buffer, int? walkAwayMs)
    {
        var id = Interlocked.Increment(ref _ids);
        _inFlight[id] = Stopwatch.GetTimestamp();
        using var deadline = new CancellationTokenSource(kind.Expected + _hungAfter);
        using var walk = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        if (walkAwayMs is { } ms && !kind.Stream)
        {
            walk.CancelAfter(ms);
        }

        string? error = null;
        var left = false;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, walk.Token);
            await using var stream = await response.Content.ReadAsStreamAsync(walk.Token);
            if (!response.IsSuccessStatusCode)
            {
                await stream.CopyToAsync(Stream.Null, walk.Token);
                error = $"HTTP {(int)response.StatusCode}";
            }
            else if (!kind.Stream)
            {
                long total = 0;
                int read;
                while ((read = await stream.ReadAsync(buffer, walk.Token)) > 0)
                {
                    total += read;
                }

                error = total > 0 ? null : "empty body";
            }
            else
            {
                var sse = new SseCounter();
                int read;
                while ((read = await stream.ReadAsync(buffer, walk.Token)) > 0)
                {
                    sse.Feed(buffer.AsSpan(0, read));
                    if (walkAwayMs is not null && sse.Events > 0)
                    {
                        // Dropping the response mid-stream closes the connection: the gateway sees the caller go.
                        left = true;
                        break;
                    }
                }

                error = left ? null
                    : sse.ErrorEvent ? "SSE error event"
                    : !sse.Done ? "stream ended without [DONE]"
                    : sse.Events != kind.Tokens + 2 ? "stream had the wrong number of events"
                    : null;
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            error = "hung";
        }
        catch (OperationCanceledException)
        {
            // Walked away before the answer was complete.
            left = true;
        }
        catch (HttpRequestException ex)
        {
            error = $"{ex.HttpRequestError}";
        }
        catch (IOException)
        {
            error = "IO error (connection reset)";
        }
        finally
        {
            _inFlight.TryRemove(id, out _);
        }

        if (error == "hung")
        {
            Interlocked.Increment(ref _hung);
        }
        else if (error is not null)
        {
            Interlocked.Increment(ref _failed);
            _errors.AddOrUpdate($"{kind.Name}: {error}", 1, (_, n) => n + 1);
        }
        else if (left)
        {
            Interlocked.Increment(ref _walkedAway);
        }
        else
        {
            Interlocked.Increment(ref _ok);
        }

        return error is null;
    }

    public void Dispose()
    {
        _client.Dispose();
        _handler.Dispose();
    }
}
