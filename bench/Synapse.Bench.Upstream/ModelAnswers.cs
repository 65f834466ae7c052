using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Synapse.Bench.Upstream;

/// <summary>Every answer for one model, as bytes, built once (shared by <see cref="FakeOpenAI"/> and <see cref="FakeEngine"/>).</summary>
internal sealed class ModelAnswers
{
    private const string Token = " hello";

    private readonly string _modelJson;
    private readonly ConcurrentDictionary<int, byte[]> _completions = new();

    public ModelAnswers(string model)
    {
        _modelJson = JsonSerializer.Serialize(model);
        FirstChunk = Event($$"""{"role":"assistant","content":"{{Token}}"}""", "null");
        Chunk = Event($$"""{"content":"{{Token}}"}""", "null");
        StopChunk = Event("{}", "\"stop\"");
    }

    public static byte[] Done { get; } = "data: [DONE]\n\n"u8.ToArray();

    public byte[] FirstChunk { get; }

    public byte[] Chunk { get; }

    public byte[] StopChunk { get; }

    public byte[] Completion(int tokens) => _completions.GetOrAdd(tokens, n => Encoding.UTF8.GetBytes(
        $$$"""{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":{{{_modelJson}}},"choices":[{"index":0,"message":{"role":"assistant","content":"{{{string.Concat(Enumerable.Repeat(Token, n))}}}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":8,"completion_tokens":{{{n}}},"total_tokens":{{{n + 8}}}}}"""));

    private byte[] Event(string delta, string finish) => Encoding.UTF8.GetBytes(
        $$$"""data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":{{{_modelJson}}},"choices":[{"index":0,"delta":{{{delta}}},"finish_reason":{{{finish}}}}]}""" + "\n\n");
}
