using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Cluster;

/// <summary>
/// Steady mixed load (streams and plain calls) that classifies every request: succeeded, ended with a clean error
/// (an SSE error event or a JSON 5xx), hung (no end within the deadline), or broken (anything else, such as a
/// silently truncated stream). The counts are what failure tests assert on.
/// </summary>
public sealed class LoadRecorder
{
    private static readonly TimeSpan HangDeadline = TimeSpan.FromSeconds(40);

    private readonly ConcurrentQueue<LoadResult> _results = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public IReadOnlyCollection<LoadResult> Results => _results;

    public TimeSpan Now => _clock.Elapsed;

    public Task RunAsync(Func<HttpClient> clients, string model, int workers, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(worker => WorkerAsync(clients, model, worker, stop)));

    public string Summary() =>
        string.Join(", ", _results.GroupBy(r => r.Outcome).Select(g => $"{g.Key}: {g.Count()}"))
        + " | " + string.Join("; ", _results.Where(r => r.Outcome is LoadOutcome.Broken or LoadOutcome.Hung).Take(5).Select(r => r.Detail));

    private async Task WorkerAsync(Func<HttpClient> clients, string model, int worker, CancellationToken stop)
    {
        using var client = clients();
        var stream = worker % 2 == 0;
        while (!stop.IsCancellationRequested)
        {
            var sent = Now;
            using var deadline = new CancellationTokenSource(HangDeadline);
            LoadResult result;
            try
            {
                result = stream
                    ? await StreamOnceAsync(client, model, sent, deadline.Token)
                    : await CallOnceAsync(client, model, sent, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                result = new LoadResult(sent, Now, stream, LoadOutcome.Hung, "no answer within the deadline");
            }
            catch (Exception ex)
            {
                result = new LoadResult(sent, Now, stream, LoadOutcome.Broken, ex.GetType().Name + ": " + ex.Message);
            }

            _results.Enqueue(result);
            stream = !stream;
        }
    }

    private async Task<LoadResult> StreamOnceAsync(HttpClient client, string model, TimeSpan sent, CancellationToken cancellationToken)
    {
        using var response = await ChatCalls.StreamAsync(client, model, tokens: 20, delayMs: 25).WaitAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return await ErrorResultAsync(response, sent, stream: true);
        }

        var events = await new SseReader(await response.Content.ReadAsStreamAsync(cancellationToken)).ReadAllDataAsync(cancellationToken);
        if (events.Count > 0 && events[^1] == "[DONE]" && events.Count(e => e.Contains("\"tok", StringComparison.Ordinal)) == 20)
        {
            return new LoadResult(sent, Now, true, LoadOutcome.Succeeded, string.Empty);
        }

        if (events.Count > 0 && events[^1].StartsWith("{\"error\"", StringComparison.Ordinal))
        {
            var code = JsonDocument.Parse(events[^1]).RootElement.GetProperty("error").GetProperty("code").GetString();
            return new LoadResult(sent, Now, true, LoadOutcome.CleanError, code ?? string.Empty);
        }

        return new LoadResult(sent, Now, true, LoadOutcome.Broken, $"stream ended after {events.Count} events without [DONE] or an error");
    }

    private async Task<LoadResult> CallOnceAsync(HttpClient client, string model, TimeSpan sent, CancellationToken cancellationToken)
    {
        using var response = await ChatCalls.PostRawAsync(client, model, tokens: 5, delayMs: 10).WaitAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return await ErrorResultAsync(response, sent, stream: false);
        }

        var body = await Json.ReadAsync(response);
        var content = body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        return content == "tok0 tok1 tok2 tok3 tok4 "
            ? new LoadResult(sent, Now, false, LoadOutcome.Succeeded, string.Empty)
            : new LoadResult(sent, Now, false, LoadOutcome.Broken, "wrong content: " + content);
    }

    private async Task<LoadResult> ErrorResultAsync(HttpResponseMessage response, TimeSpan sent, bool stream)
    {
        try
        {
            var code = await Json.ReadErrorCodeAsync(response);
            return new LoadResult(sent, Now, stream, LoadOutcome.CleanError, $"{(int)response.StatusCode} {code}");
        }
        catch (Exception ex)
        {
            return new LoadResult(sent, Now, stream, LoadOutcome.Broken, $"{(int)response.StatusCode} without an OpenAI error: {ex.Message}");
        }
    }
}

public enum LoadOutcome
{
    Succeeded,
    CleanError,
    Hung,
    Broken,
}

public sealed record LoadResult(TimeSpan Sent, TimeSpan Ended, bool Stream, LoadOutcome Outcome, string Detail);
