using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Synapse.Bench.Upstream;

/// <summary>
/// What the fake engine reads from a request: the fast fake's fields (model, stream, tokens, delay per token) and
/// the prompt, as its cache prefix and its size in tokens. The prefix is the first 1 KiB (UTF-8) of the messages up
/// to and including the first user message, each as its role, a line break, its text and a line break (for
/// <c>/v1/completions</c>, of the prompt): a conversation keeps it from turn to turn.
/// </summary>
internal sealed record EnginePrompt(string Model, bool Stream, int Tokens, int? DelayMs, string Prefix, int PromptTokens)
{
    public const int PrefixBytes = 1024;

    private const int DefaultTokens = 16;
    private const int MaxTokens = 100_000;

    /// <summary>The request, or null when the body is no JSON object.</summary>
    public static EnginePrompt? Parse(ReadOnlyMemory<byte> body, IHeaderDictionary headers)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "bench-model";
            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            var tokens = Int(root, "bench_tokens") ?? Int(root, "max_tokens") ?? DefaultTokens;
            var delay = Int(root, "bench_delay_ms");
            if (int.TryParse(headers["X-Bench-Tokens"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var headerTokens))
            {
                tokens = headerTokens;
            }

            if (int.TryParse(headers["X-Bench-Delay-Ms"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var headerDelay))
            {
                delay = headerDelay;
            }

            var prefix = new StringBuilder();
            var promptBytes = 0;
            if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
            {
                var inPrefix = true;
                foreach (var message in messages.EnumerateArray())
                {
                    var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : string.Empty;
                    var text = message.TryGetProperty("content", out var c) ? Text(c) : string.Empty;
                    promptBytes += Encoding.UTF8.GetByteCount(text);
                    if (inPrefix)
                    {
                        prefix.Append(role).Append('\n').Append(text).Append('\n');
                        inPrefix = role != "user";
                    }
                }
            }
            else if (root.TryGetProperty("prompt", out var prompt))
            {
                var text = Text(prompt);
                promptBytes = Encoding.UTF8.GetByteCount(text);
                prefix.Append(text);
            }

            return new EnginePrompt(model, stream, Math.Clamp(tokens, 0, MaxTokens), delay is { } d ? Math.Max(0, d) : null, FirstKiB(prefix.ToString()), Math.Max(1, promptBytes / 4));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string FirstKiB(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return bytes.Length <= PrefixBytes ? text : Encoding.UTF8.GetString(bytes, 0, PrefixBytes);
    }

    /// <summary>A content string, or the text parts of a content array, joined.</summary>
    private static string Text(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString()!,
        JsonValueKind.Array => string.Concat(content.EnumerateArray()
            .Select(part => part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : part.ValueKind == JsonValueKind.String ? part.GetString() : null)),
        _ => string.Empty,
    };

    private static int? Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;
}
