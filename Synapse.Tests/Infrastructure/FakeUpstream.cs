using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Synapse.Tests.Infrastructure;

/// <summary>
/// A fake OpenAI-compatible LLM server on a real Kestrel port. It records what it received and lets each request
/// steer it through headers (which pass through the gateway untouched): <c>X-Fake-Tokens</c>, <c>X-Fake-Delay-Ms</c>,
/// <c>X-Fake-Status</c>, <c>X-Fake-Crash-After</c>, <c>X-Fake-Stall-After</c>, <c>X-Fake-First-Delay-Ms</c>, <c>X-Fake-Hang</c>.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private volatile JsonArray _models;
    private int _active;
    private int _peakActive;

    private FakeUpstream(WebApplication app, string name, IEnumerable<string> models)
    {
        _app = app;
        Name = name;
        _models = ModelList(models);
    }

    public string Name { get; }

    public string Url { get; private set; } = string.Empty;

    /// <summary>Its engine endpoints (<c>/metrics</c>, <c>/slots</c>, <c>/props</c>): none until a test picks an engine.</summary>
    public FakeEngine Engine { get; } = new();

    /// <summary>When set, requests must carry it as a bearer token.</summary>
    public string? RequiredApiKey { get; set; }

    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    /// <summary>When set, every generation request is answered with this status (an instance-wide failure).</summary>
    public int? ForcedStatus { get; set; }

    /// <summary>Requests currently being answered.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>The most requests it was ever answering at once.</summary>
    public int PeakActive => Volatile.Read(ref _peakActive);

    public static async Task<FakeUpstream> StartAsync(string name, params string[] models)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var upstream = new FakeUpstream(app, name, models);
        upstream.Map(app);
        await app.StartAsync();
        upstream.Url = app.Urls.First();
        return upstream;
    }

    public void SetModels(params string[] models) => _models = ModelList(models);

    /// <summary>Replaces one model's metadata (to test merging of disagreeing instances).</summary>
    public void SetModelMetadata(string model, Action<JsonObject> edit)
    {
        var models = ModelList([]);
        foreach (var node in _models)
        {
            var copy = node!.DeepClone().AsObject();
            if ((string?)copy["id"] == model)
            {
                edit(copy);
            }

            models.Add(copy);
        }

        _models = models;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static JsonArray ModelList(IEnumerable<string> models)
    {
        var list = new JsonArray();
        foreach (var model in models)
        {
            list.Add(new JsonObject
            {
                ["id"] = model,
                ["object"] = "model",
                ["created"] = 1_700_000_000,
                ["owned_by"] = "fake",
                ["max_model_len"] = 4096,
            });
        }

        return list;
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/v1/models", (HttpContext context) =>
        {
            if (!Authorized(context))
            {
                return Results.StatusCode(401);
            }

            return Results.Json(new JsonObject { ["object"] = "list", ["data"] = _models.DeepClone() });
        });
        app.MapPost("/v1/chat/completions", context => AnswerAsync(context, chat: true));
        app.MapPost("/v1/completions", context => AnswerAsync(context, chat: false));
        app.MapPost("/v1/embeddings", EmbeddingsAsync);
        app.Map("/v1/{**rest}", EchoAsync);
        Engine.Map(app);
    }

    private async Task<(RecordedRequest Record, JsonObject? Body)> RecordAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        var record = new RecordedRequest(
            context.Request.Method,
            context.Request.Path.Value ?? string.Empty,
            context.Request.QueryString.Value ?? string.Empty,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            text);
        _requests.Enqueue(record);
        context.RequestAborted.Register(() => record.Aborted = true);
        JsonObject? body = null;
        try
        {
            body = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
        }

        return (record, body);
    }

    private bool Authorized(HttpContext context) =>
        RequiredApiKey is null || context.Request.Headers.Authorization.ToString() == $"Bearer {RequiredApiKey}";

    private async Task AnswerAsync(HttpContext context, bool chat)
    {
        var now = Interlocked.Increment(ref _active);
        int peak;
        while (now > (peak = Volatile.Read(ref _peakActive)) && Interlocked.CompareExchange(ref _peakActive, now, peak) != peak)
        {
        }

        var (record, body) = await RecordAsync(context);
        try
        {
            if (!Authorized(context))
            {
                context.Response.StatusCode = 401;
                await context.Response.WriteAsJsonAsync(new { error = new { message = "bad upstream key", type = "auth", code = "invalid_api_key" } });
                return;
            }

            var headers = context.Request.Headers;
            if (ForcedStatus is { } forced || int.TryParse(headers["X-Fake-Status"], out forced))
            {
                var status = forced;
                context.Response.StatusCode = status;
                await context.Response.WriteAsJsonAsync(new { error = new { message = $"fake {Name} says {status}", type = "upstream", code = "fake" } });
                return;
            }

            if (headers.ContainsKey("X-Fake-Hang"))
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }

            var tokens = int.TryParse(headers["X-Fake-Tokens"], out var n) ? n : 5;
            var delay = int.TryParse(headers["X-Fake-Delay-Ms"], out var d) ? d : 0;
            var crashAfter = int.TryParse(headers["X-Fake-Crash-After"], out var c) ? c : -1;
            var stallAfter = int.TryParse(headers["X-Fake-Stall-After"], out var st) ? st : -1;
            var firstDelay = int.TryParse(headers["X-Fake-First-Delay-Ms"], out var fd) ? fd : 0;
            var model = (string?)body?["model"] ?? "unknown";
            var stream = body?["stream"] is JsonValue s && s.TryGetValue(out bool isStream) && isStream;
            var includeUsage = body?["stream_options"]?["include_usage"] is JsonValue u && u.TryGetValue(out bool usage) && usage
                && headers["X-Fake-Ignore-Stream-Options"].Count == 0;

            // As OpenAI does: with include_usage every other chunk carries "usage":null.
            var nullUsage = includeUsage && headers["X-Fake-Usage-Null"].Count > 0;

            if (!stream)
            {
                for (var i = 0; i < tokens && delay > 0; i++)
                {
                    await Task.Delay(delay, context.RequestAborted);
                }

                var content = string.Concat(Enumerable.Range(0, tokens).Select(i => $"tok{i} "));
                object answer = chat
                    ? new
                    {
                        id = "chatcmpl-fake",
                        @object = "chat.completion",
                        created = 1_700_000_000,
                        model,
                        instance = Name,
                        choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
                        usage = new { prompt_tokens = 3, completion_tokens = tokens, total_tokens = tokens + 3 },
                    }
                    : new
                    {
                        id = "cmpl-fake",
                        @object = "text_completion",
                        created = 1_700_000_000,
                        model,
                        instance = Name,
                        choices = new[] { new { index = 0, text = content, finish_reason = "stop" } },
                        usage = new { prompt_tokens = 3, completion_tokens = tokens, total_tokens = tokens + 3 },
                    };
                await context.Response.WriteAsJsonAsync(answer);
                return;
            }

            context.Response.ContentType = "text/event-stream; charset=utf-8";
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Fake-Instance"] = Name;
            await context.Response.StartAsync();
            if (firstDelay > 0)
            {
                // StartAsync only queues the head; flushing sends it, as a real server does before a slow first token.
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(firstDelay, context.RequestAborted);
            }

            for (var i = 0; i < tokens; i++)
            {
                if (i == crashAfter)
                {
                    context.Abort();
                    return;
                }

                if (i == stallAfter)
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }

                if (delay > 0)
                {
                    await Task.Delay(delay, context.RequestAborted);
                }

                await context.Response.WriteAsync(Chunk(chat, model, $"tok{i} ", finish: null, nullUsage), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }

            await context.Response.WriteAsync(Chunk(chat, model, string.Empty, finish: "stop", nullUsage), context.RequestAborted);
            if (includeUsage)
            {
                var usageJson = $"{{\"prompt_tokens\":3,\"completion_tokens\":{tokens},\"total_tokens\":{tokens + 3}}}";
                await context.Response.WriteAsync(
                    $$"""data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"{{model}}","choices":[],"usage":{{usageJson}}}""" + "\n\n",
                    context.RequestAborted);
            }

            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
            record.Completed = true;
        }
        catch (OperationCanceledException)
        {
            record.Aborted = true;
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    private static string Chunk(bool chat, string model, string text, string? finish, bool nullUsage = false)
    {
        var finishJson = finish is null ? "null" : $"\"{finish}\"";
        var content = JsonSerializer.Serialize(text);
        var usage = nullUsage ? ",\"usage\":null" : string.Empty;
        return chat
            ? $$"""data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"{{model}}","choices":[{"index":0,"delta":{"content":{{content}}},"finish_reason":{{finishJson}}}]{{usage}}}""" + "\n\n"
            : $$"""data: {"id":"cmpl-fake","object":"text_completion","created":1700000000,"model":"{{model}}","choices":[{"index":0,"text":{{content}},"finish_reason":{{finishJson}}}]{{usage}}}""" + "\n\n";
    }

    private async Task EmbeddingsAsync(HttpContext context)
    {
        var (_, body) = await RecordAsync(context);
        var inputs = body?["input"] switch
        {
            JsonArray array => array.Count,
            _ => 1,
        };
        var data = Enumerable.Range(0, inputs).Select(i => new { @object = "embedding", index = i, embedding = new[] { 0.1f * (i + 1), 0.2f, 0.3f } });
        await context.Response.WriteAsJsonAsync(new
        {
            @object = "list",
            data,
            model = (string?)body?["model"],
            usage = new { prompt_tokens = 2, total_tokens = 2 },
        });
    }

    private async Task EchoAsync(HttpContext context)
    {
        var (record, _) = await RecordAsync(context);
        await context.Response.WriteAsJsonAsync(new
        {
            instance = Name,
            method = record.Method,
            path = record.Path,
            query = record.Query,
            body = record.Body,
        });
    }
}

public sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public DateTime ReceivedAt { get; } = DateTime.Now;

    public bool Aborted { get; set; }

    public bool Completed { get; set; }

    public int Tokens => int.Parse(Headers.GetValueOrDefault("X-Fake-Tokens", "5"), CultureInfo.InvariantCulture);
}
