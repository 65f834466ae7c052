using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;

namespace Synapse.Bench.Upstream;

/// <summary>
/// A fake inference engine, for the routing phase: the fast fake's API (<see cref="FakeOpenAI"/> answers everything
/// but completions) with an engine's timing and an engine's <c>/metrics</c>. At most <see cref="EngineOptions.Slots"/>
/// requests generate at once and the others wait in a FIFO queue (vLLM's scheduler); a request that gets a slot
/// spends its prefill (shorter when its prompt prefix is cached) before the first token, then one token delay per
/// further token. A stream's response head is sent at once, as vLLM (FastAPI) does; its events come as the tokens
/// are made. <c>GET /metrics</c> answers vLLM V1's Prometheus text with the gauges the agent reads
/// (<c>vllm:num_requests_running</c>, <c>vllm:num_requests_waiting</c>, <c>vllm:kv_cache_usage_perc</c>, label
/// <c>model_name</c>); <c>GET /bench/stats</c> answers the counts as JSON (prefix hits and misses among them).
/// </summary>
internal sealed class FakeEngine(EngineOptions options, IReadOnlyList<string> models, FakeOpenAI api)
{
    private readonly EngineScheduler _scheduler = new(options.Slots);
    private readonly PrefixCache _prefixes = new(options.PrefixCapacity);
    private readonly ConcurrentDictionary<string, ModelAnswers> _answers = new(StringComparer.Ordinal);
    private readonly string _modelLabel = models[0].Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
    private long _requests;
    private long _completed;
    private long _prefixQueryTokens;
    private long _prefixHitTokens;
    private long _promptTokens;
    private long _generationTokens;
    private long _admitted;
    private long _queueWaitMicros;

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value;
        if (HttpMethods.IsGet(request.Method) && path == "/metrics")
        {
            await WriteAsync(context, "text/plain; version=0.0.4; charset=utf-8", Encoding.UTF8.GetBytes(Metrics()));
            return;
        }

        if (HttpMethods.IsGet(request.Method) && path == "/bench/stats")
        {
            await WriteAsync(context, "application/json", Stats());
            return;
        }

        if (!HttpMethods.IsPost(request.Method) || path is not ("/v1/chat/completions" or "/v1/completions"))
        {
            await api.HandleAsync(context);
            return;
        }

        var prompt = EnginePrompt.Parse(await ReadBodyAsync(context), request.Headers);
        if (prompt is null)
        {
            context.Response.StatusCode = 400;
            await WriteAsync(context, "application/json", """{"error":{"message":"invalid JSON body","type":"invalid_request_error","code":"invalid_body"}}"""u8.ToArray());
            return;
        }

        Interlocked.Increment(ref _requests);
        var answers = _answers.GetOrAdd(prompt.Model, static m => new ModelAnswers(m));
        var delayMs = options.TokenDelayMs ?? prompt.DelayMs ?? 0;
        var aborted = context.RequestAborted;
        var response = context.Response;
        try
        {
            if (prompt.Stream)
            {
                response.StatusCode = 200;
                response.ContentType = "text/event-stream; charset=utf-8";
                response.Headers.CacheControl = "no-cache";
                await response.StartAsync(aborted);
                await response.BodyWriter.FlushAsync(aborted);
            }

            var arrived = Stopwatch.GetTimestamp();
            await _scheduler.EnterAsync(aborted);
            Interlocked.Increment(ref _admitted);
            Interlocked.Add(ref _queueWaitMicros, (long)Stopwatch.GetElapsedTime(arrived).TotalMicroseconds);
            long held = prompt.PromptTokens;
            _scheduler.Hold(held);
            try
            {
                var hit = Prefill(prompt);
                var prefillMs = hit ? options.PrefillHitMs ?? options.PrefillMs ?? delayMs : options.PrefillMs ?? delayMs;
                var start = Stopwatch.GetTimestamp();
                if (!prompt.Stream)
                {
                    await DelayUntilAsync(start, prefillMs + (Math.Max(prompt.Tokens, 1) - 1.0) * delayMs, aborted);
                    _scheduler.Hold(prompt.Tokens);
                    held += prompt.Tokens;
                    Interlocked.Add(ref _generationTokens, prompt.Tokens);
                    await WriteAsync(context, "application/json", answers.Completion(prompt.Tokens));
                }
                else
                {
                    var writer = response.BodyWriter;
                    for (var i = 0; i < prompt.Tokens; i++)
                    {
                        // The first token ends the prefill; each further one takes a token's delay. Times are kept
                        // from the start, so a late timer does not make the whole answer later.
                        await DelayUntilAsync(start, prefillMs + ((double)i * delayMs), aborted);
                        await writer.WriteAsync(i == 0 ? answers.FirstChunk : answers.Chunk, aborted);
                        _scheduler.Hold(1);
                        held++;
                        Interlocked.Increment(ref _generationTokens);
                    }

                    writer.Write(answers.StopChunk);
                    writer.Write(ModelAnswers.Done);
                    await writer.FlushAsync(aborted);
                }

                Interlocked.Increment(ref _completed);
            }
            finally
            {
                _scheduler.Hold(-held);
                _scheduler.Exit();
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The caller went away (while waiting or while generating); its slot, if it had one, is given back.
        }
    }

    /// <summary>Looks the prompt's prefix up (a hit is a shorter prefill) and counts it.</summary>
    private bool Prefill(EnginePrompt prompt)
    {
        Interlocked.Add(ref _promptTokens, prompt.PromptTokens);
        var prefixTokens = Math.Max(1, Encoding.UTF8.GetByteCount(prompt.Prefix) / 4);
        Interlocked.Add(ref _prefixQueryTokens, prefixTokens);
        if (!options.PrefixCache)
        {
            _prefixes.Miss();
            return false;
        }

        var hit = _prefixes.Lookup(prompt.Prefix);
        if (hit)
        {
            Interlocked.Add(ref _prefixHitTokens, prefixTokens);
        }

        return hit;
    }

    private static async Task DelayUntilAsync(long start, double afterMs, CancellationToken cancellationToken)
    {
        var left = afterMs - Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (left >= 1)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(left), cancellationToken);
        }
    }

    /// <summary>vLLM V1's exposition of the gauges the agent reads, and two of its counters, one engine (label engine="0").</summary>
    private string Metrics()
    {
        var labels = $"{{engine=\"0\",model_name=\"{_modelLabel}\"}}";
        var kv = Math.Min(1.0, _scheduler.KvTokens / (double)options.KvCapacity);
        var text = new StringBuilder();
        void Family(string name, string type, string help, double value) => text
            .Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n{name}{labels} {Python(value)}\n");
        Family("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", _scheduler.Running);
        Family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", _scheduler.Waiting);
        Family("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", kv);
        Family("vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.", Interlocked.Read(ref _prefixQueryTokens));
        Family("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.", Interlocked.Read(ref _prefixHitTokens));
        Family("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", Interlocked.Read(ref _promptTokens));
        Family("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", Interlocked.Read(ref _generationTokens));
        return text.ToString();
    }

    private byte[] Stats() => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
    {
        ["model"] = models[0],
        ["slots"] = options.Slots,
        ["running"] = _scheduler.Running,
        ["waiting"] = _scheduler.Waiting,
        ["max_waiting"] = _scheduler.MaxWaiting,
        ["kv_tokens"] = _scheduler.KvTokens,
        ["requests"] = Interlocked.Read(ref _requests),
        ["completed"] = Interlocked.Read(ref _completed),
        ["admitted"] = Interlocked.Read(ref _admitted),
        ["queue_wait_ms_total"] = Interlocked.Read(ref _queueWaitMicros) / 1000.0,
        ["prefix_cache"] = options.PrefixCache,
        ["prefix_capacity"] = options.PrefixCapacity,
        ["prefixes_cached"] = _prefixes.Count,
        ["prefix_hits"] = _prefixes.Hits,
        ["prefix_misses"] = _prefixes.Misses,
    });

    /// <summary>Python's repr of a float, as prometheus_client writes values: 4.0, 0.0625.</summary>
    private static string Python(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? text : text + ".0";
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(context.RequestAborted);
            if (read.IsCompleted || read.IsCanceled)
            {
                var body = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return body;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private static async Task WriteAsync(HttpContext context, string contentType, byte[] body)
    {
        var response = context.Response;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        await response.BodyWriter.WriteAsync(body, context.RequestAborted);
    }
}
