using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;

namespace Synapse.Bench.Upstream;

/// <summary>
/// Answers <c>GET /v1/models</c> and <c>POST /v1/chat/completions</c> (and <c>/v1/completions</c>, answered the same
/// way) like an LLM server would, as cheaply as possible so the benchmark measures the gateway and not the fake.
/// Each request says how many tokens to produce and how long to wait before each one, in its JSON body
/// (<c>"bench_tokens"</c>, else <c>"max_tokens"</c>; <c>"bench_delay_ms"</c>) or in headers (<c>X-Bench-Tokens</c>, <c>X-Bench-Delay-Ms</c>;
/// headers win). Streams are OpenAI <c>chat.completion.chunk</c> events, one write and flush per token, ending
/// with a <c>finish_reason</c> chunk and <c>data: [DONE]</c>.
/// </summary>
internal sealed class FakeOpenAI
{
    private const int DefaultTokens = 16;
    private const int MaxTokens = 100_000;

    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly byte[] _modelList;
    private readonly ConcurrentDictionary<string, ModelAnswers> _answers = new(StringComparer.Ordinal);

    public FakeOpenAI(IReadOnlyList<string> models)
    {
        var list = new StringBuilder("{\"object\":\"list\",\"data\":[");
        for (var i = 0; i < models.Count; i++)
        {
            list.Append(i == 0 ? string.Empty : ",")
                .Append(CultureInfo.InvariantCulture, $$"""{"id":{{JsonSerializer.Serialize(models[i])}},"object":"model","created":1700000000,"owned_by":"bench","max_model_len":4096}""");
        }

        _modelList = Encoding.UTF8.GetBytes(list.Append("]}").ToString());
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value;
        if (HttpMethods.IsGet(request.Method) && path is "/v1/models" or "/models")
        {
            await WriteJsonAsync(context, 200, _modelList);
            return;
        }

        if (!HttpMethods.IsPost(request.Method) || path is not ("/v1/chat/completions" or "/v1/completions"))
        {
            await WriteJsonAsync(context, 404, """{"error":{"message":"not found","type":"invalid_request_error","code":"not_found"}}"""u8.ToArray());
            return;
        }

        var parsed = await ReadRequestAsync(context);
        if (parsed is not { } call)
        {
            await WriteJsonAsync(context, 400, """{"error":{"message":"invalid JSON body","type":"invalid_request_error","code":"invalid_body"}}"""u8.ToArray());
            return;
        }

        var answers = _answers.GetOrAdd(call.Model, static m => new ModelAnswers(m));
        var aborted = context.RequestAborted;
        try
        {
            if (!call.Stream)
            {
                if (call.DelayMs > 0 && call.Tokens > 0)
                {
                    await Task.Delay(call.DelayMs * call.Tokens, aborted);
                }

                await WriteJsonAsync(context, 200, answers.Completion(call.Tokens));
                return;
            }

            var response = context.Response;
            response.StatusCode = 200;
            response.ContentType = "text/event-stream; charset=utf-8";
            response.Headers.CacheControl = "no-cache";
            await response.StartAsync(aborted);
            var writer = response.BodyWriter;
            for (var i = 0; i < call.Tokens; i++)
            {
                if (call.DelayMs > 0)
                {
                    await Task.Delay(call.DelayMs, aborted);
                }

                // PipeWriter.WriteAsync writes and flushes: one token, one flush, as LLM servers do.
                await writer.WriteAsync(i == 0 ? answers.FirstChunk : answers.Chunk, aborted);
            }

            writer.Write(answers.StopChunk);
            writer.Write(Done);
            await writer.FlushAsync(aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The caller went away; nothing to finish.
        }
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        await response.BodyWriter.WriteAsync(body, context.RequestAborted);
    }

    private static async Task<Call?> ReadRequestAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await reader.ReadAsync(context.RequestAborted);
            if (read.IsCompleted || read.IsCanceled)
            {
                break;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        try
        {
            var call = Parse(read.Buffer);
            if (call is { } found)
            {
                var headers = context.Request.Headers;
                if (int.TryParse(headers["X-Bench-Tokens"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var tokens))
                {
                    found = found with { Tokens = tokens };
                }

                if (int.TryParse(headers["X-Bench-Delay-Ms"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var delay))
                {
                    found = found with { DelayMs = delay };
                }

                return found with { Tokens = Math.Clamp(found.Tokens, 0, MaxTokens), DelayMs = Math.Max(0, found.DelayMs) };
            }

            return null;
        }
        finally
        {
            reader.AdvanceTo(read.Buffer.End);
        }
    }

    /// <summary>Reads the top-level fields it needs and skips the rest (messages and all).</summary>
    private static Call? Parse(ReadOnlySequence<byte> body)
    {
        var json = new Utf8JsonReader(body);
        var call = new Call("bench-model", Stream: false, DefaultTokens, DelayMs: 0);
        int? benchTokens = null;
        int? maxTokens = null;
        try
        {
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                if (json.ValueTextEquals("model"u8))
                {
                    json.Read();
                    call = call with { Model = json.GetString() ?? call.Model };
                }
                else if (json.ValueTextEquals("stream"u8))
                {
                    json.Read();
                    call = call with { Stream = json.TokenType == JsonTokenType.True };
                }
                else if (json.ValueTextEquals("bench_tokens"u8))
                {
                    benchTokens = ReadInt(ref json);
                }
                else if (json.ValueTextEquals("max_tokens"u8))
                {
                    maxTokens = ReadInt(ref json);
                }
                else if (json.ValueTextEquals("bench_delay_ms"u8))
                {
                    call = call with { DelayMs = ReadInt(ref json) ?? 0 };
                }
                else
                {
                    json.Read();
                    json.Skip();
                }
            }

            return call with { Tokens = benchTokens ?? maxTokens ?? DefaultTokens };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static int? ReadInt(ref Utf8JsonReader json)
    {
        json.Read();
        if (json.TokenType == JsonTokenType.Number && json.TryGetInt32(out var value))
        {
            return value;
        }

        json.Skip();
        return null;
    }

    private readonly record struct Call(string Model, bool Stream, int Tokens, int DelayMs);
}
