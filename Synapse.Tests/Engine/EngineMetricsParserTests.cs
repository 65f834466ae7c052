using System.Text;
using Synapse.Client.Engine;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Engine;

/// <summary>The parser against each engine's real <c>/metrics</c> format (see <see cref="FakeEngine.Render"/>) and against hostile values.</summary>
[Trait("Category", "Unit")]
public sealed class EngineMetricsParserTests
{
    [Fact]
    public void Parse_VllmBody_ReadsRunningWaitingAndKvPerModel()
    {
        var reading = Parse(FakeEngine.Render(FakeEngineKind.Vllm, Loads(("llama-70b", new(3, 7, 0.42)), ("qwen-7b", new(1, 0, 0.05)))), out var parser);

        Assert.Equal(EngineKind.Vllm, parser.Kind);
        Assert.Null(parser.Problem);
        Assert.Equal(
            [new EngineModelLoad("llama-70b", 3, 7, 0.42), new EngineModelLoad("qwen-7b", 1, 0, 0.05)],
            reading.Models.OrderBy(m => m.Model, StringComparer.Ordinal));
        Assert.Null(reading.Capacity);
    }

    [Fact]
    public void Parse_VllmV0Body_UsesTheOlderKvGauge()
    {
        var reading = Parse(FakeEngine.Render(FakeEngineKind.VllmV0, Loads(("m", new(2, 5, 0.875)))), out _);

        Assert.Equal([new EngineModelLoad("m", 2, 5, 0.875)], reading.Models);
    }

    [Fact]
    public void Parse_BothKvGaugesWithDifferentValues_TheCurrentNameWins()
    {
        var reading = Parse(
            """
            vllm:num_requests_running{engine="0",model_name="m"} 1.0
            vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.9
            vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.3
            """,
            out _);

        Assert.Equal(0.3, reading.Models.Single().KvUsage);
        Assert.Null(reading.Models.Single().Waiting);
    }

    [Fact]
    public void Parse_VllmDataParallelEngines_SumsQueuesAndAveragesKv()
    {
        var reading = Parse(
            """
            # HELP vllm:num_requests_running Number of requests in model execution batches.
            # TYPE vllm:num_requests_running gauge
            vllm:num_requests_running{engine="0",model_name="m"} 4.0
            vllm:num_requests_running{engine="1",model_name="m"} 2.0
            # HELP vllm:num_requests_waiting Number of requests waiting to be processed.
            # TYPE vllm:num_requests_waiting gauge
            vllm:num_requests_waiting{engine="0",model_name="m"} 3.0
            vllm:num_requests_waiting{engine="1",model_name="m"} 0.0
            # HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
            # TYPE vllm:kv_cache_usage_perc gauge
            vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.8
            vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.2
            """,
            out _);

        Assert.Equal([new EngineModelLoad("m", 6, 3, 0.5)], reading.Models);
    }

    [Fact]
    public void Parse_SglangBody_ReadsRunningQueueAndTokenUsage()
    {
        var reading = Parse(FakeEngine.Render(FakeEngineKind.Sglang, Loads(("deepseek", new(12, 30, 0.97)))), out var parser);

        Assert.Equal(EngineKind.Sglang, parser.Kind);
        Assert.Equal([new EngineModelLoad("deepseek", 12, 30, 0.97)], reading.Models);
    }

    [Fact]
    public void Parse_SglangEveryScheduler_CountsEachDataParallelGroupOnce()
    {
        var reading = Parse(
            """
            sglang:num_running_reqs{dp_rank="0",engine_type="unified",model_name="m",moe_ep_rank="0",pp_rank="0",tp_rank="0"} 5.0
            sglang:num_running_reqs{dp_rank="0",engine_type="unified",model_name="m",moe_ep_rank="0",pp_rank="0",tp_rank="1"} 5.0
            sglang:num_running_reqs{dp_rank="1",engine_type="unified",model_name="m",moe_ep_rank="0",pp_rank="0",tp_rank="0"} 2.0
            sglang:num_queue_reqs{dp_rank="0",engine_type="unified",model_name="m",moe_ep_rank="0",pp_rank="0",tp_rank="0"} 1.0
            sglang:num_queue_reqs{dp_rank="0",engine_type="unified",model_name="m",moe_ep_rank="0",pp_rank="0",tp_rank="1"} 1.0
            sglang:num_queue_reqs{dp_rank="1",engine_type="unified",model_name="m",moe_ep_rank="0",pp_rank="0",tp_rank="0"} 4.0
            """,
            out _);

        Assert.Equal([new EngineModelLoad("m", 7, 5, null)], reading.Models);
    }

    [Fact]
    public void Parse_LlamaCppBody_ReadsProcessingAndDeferredWithoutKv()
    {
        var reading = Parse(FakeEngine.Render(FakeEngineKind.LlamaCpp, Loads(("any", new(2, 9, 0.7)))), out var parser);

        Assert.Equal(EngineKind.LlamaCpp, parser.Kind);
        Assert.Equal([new EngineModelLoad(null, 2, 9, null)], reading.Models);
    }

    [Fact]
    public void Parse_OlderLlamaCppBody_ReadsTheKvUsageRatio()
    {
        var reading = Parse(FakeEngine.Render(FakeEngineKind.LlamaCppWithKv, Loads(("any", new(1, 0, 0.125)))), out _);

        Assert.Equal([new EngineModelLoad(null, 1, 0, 0.125)], reading.Models);
    }

    [Theory]
    [InlineData("vllm:num_requests_waiting{model_name=\"m\"} NaN", "is not finite")]
    [InlineData("vllm:num_requests_waiting{model_name=\"m\"} +Inf", "is not finite")]
    [InlineData("vllm:num_requests_running{model_name=\"m\"} -3.0", "is negative")]
    [InlineData("vllm:num_requests_running{model_name=\"m\"} 1e300", "is out of range")]
    [InlineData("vllm:kv_cache_usage_perc{model_name=\"m\"} 1.5", "is out of range")]
    [InlineData("vllm:num_requests_running{model_name=\"m\"} three", "is not a number")]
    [InlineData("llamacpp:requests_deferred nan", "llamacpp:requests_deferred")]
    public void Parse_HostileValue_MakesTheWholeBodyUnusable(string hostile, string expected)
    {
        var body = "vllm:num_requests_running{model_name=\"m\"} 1.0\n" + hostile + "\nvllm:num_requests_waiting{model_name=\"m\"} 2.0\n";
        if (hostile.StartsWith("llamacpp:", StringComparison.Ordinal))
        {
            body = "llamacpp:requests_processing 1\n" + hostile + "\n";
        }

        var parser = Feed(body);

        Assert.NotNull(parser.Problem);
        Assert.Contains(expected, parser.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_KvUsageJustAboveOne_IsRoundingAndCountsAsFull()
    {
        var reading = Parse("vllm:num_requests_running{model_name=\"m\"} 1.0\nvllm:kv_cache_usage_perc{model_name=\"m\"} 1.0000001\n", out _);

        Assert.Equal(1.0, reading.Models.Single().KvUsage);
    }

    [Fact]
    public void Parse_RandomBytes_FindNoEngine()
    {
        var garbage = new byte[64 * 1024];
        new Random(17).NextBytes(garbage);
        var parser = new EngineMetricsParser();

        foreach (var line in Lines(garbage))
        {
            parser.OnLine(line.Span);
        }

        Assert.Equal(EngineKind.None, parser.Kind);
        Assert.False(parser.FoundAny);
    }

    [Fact]
    public void Parse_OtherEnginesLinesAfterTheFirst_AreIgnored()
    {
        var reading = Parse("vllm:num_requests_running{model_name=\"m\"} 1.0\nsglang:num_running_reqs{model_name=\"m\"} 50.0\n", out var parser);

        Assert.Equal(EngineKind.Vllm, parser.Kind);
        Assert.Equal(1, reading.Models.Single().Running);
    }

    [Fact]
    public void Parse_ModelLabelWithEscapes_IsUnescaped()
    {
        var reading = Parse("vllm:num_requests_running{model_name=\"org/a\\\"b\\\\c\"} 2.0\n", out _);

        Assert.Equal("org/a\"b\\c", reading.Models.Single().Model);
    }

    [Fact]
    public void Parse_MoreModelsThanAnAgentMayServe_IsAProblem()
    {
        var body = new StringBuilder();
        for (var i = 0; i < 1100; i++)
        {
            body.Append(System.Globalization.CultureInfo.InvariantCulture, $"vllm:num_requests_running{{model_name=\"m{i}\"}} 1.0\n");
        }

        Assert.Contains("more than", Feed(body.ToString()).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SteadyEngine_NextReadingMatchesWithoutAllocating()
    {
        var body = Encoding.UTF8.GetBytes(FakeEngine.Render(FakeEngineKind.Vllm, Loads(("a", new(3, 7, 0.42)), ("b", new(1, 0, 0.05)))));
        var lines = Lines(body).ToArray();
        var parser = new EngineMetricsParser();
        foreach (var line in lines)
        {
            parser.OnLine(line.Span);
        }

        var first = parser.ToReading(capacity: null);
        parser.Reset();
        foreach (var line in lines)
        {
            parser.OnLine(line.Span);
        }

        _ = parser.Matches(first, capacity: null);
        var before = GC.GetAllocatedBytesForCurrentThread();
        parser.Reset();
        foreach (var line in lines)
        {
            parser.OnLine(line.Span);
        }

        var matches = parser.Matches(first, capacity: null);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(matches);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Parse_ChangedValue_DoesNotMatchThePreviousReading()
    {
        var first = Parse(FakeEngine.Render(FakeEngineKind.Vllm, Loads(("a", new(3, 7, 0.42)))), out _);
        var parser = Feed(FakeEngine.Render(FakeEngineKind.Vllm, Loads(("a", new(3, 8, 0.42)))));

        Assert.False(parser.Matches(first, capacity: null));
        Assert.Equal(8, parser.ToReading(null).Models.Single().Waiting);
    }

    internal static Dictionary<string, FakeEngineLoad> Loads(params (string Model, FakeEngineLoad Load)[] loads) =>
        loads.ToDictionary(l => l.Model, l => l.Load, StringComparer.Ordinal);

    private static EngineReading Parse(string body, out EngineMetricsParser parser)
    {
        parser = Feed(body);
        Assert.Null(parser.Problem);
        return parser.ToReading(capacity: null);
    }

    private static EngineMetricsParser Feed(string body)
    {
        var parser = new EngineMetricsParser();
        foreach (var line in Lines(Encoding.UTF8.GetBytes(body)))
        {
            parser.OnLine(line.Span);
        }

        return parser;
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Lines(byte[] body)
    {
        var start = 0;
        for (var i = 0; i <= body.Length; i++)
        {
            if (i == body.Length || body[i] == (byte)'\n')
            {
                yield return body.AsMemory(start, i - start);
                start = i + 1;
            }
        }
    }
}
