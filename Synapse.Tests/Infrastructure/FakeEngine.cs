using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Synapse.Tests.Infrastructure;

/// <summary>
/// The engine endpoints of a <see cref="FakeUpstream"/>: <c>/metrics</c> in the real text format of vLLM, SGLang or
/// llama.cpp (HELP and TYPE lines, label names and order, number formatting, shaped after the engines' sources cited
/// in docs/protocol.md), llama.cpp's <c>/slots</c> and <c>/props</c>, with loads the test sets; or a hostile body.
/// By default it is no engine at all (404), like Ollama.
/// </summary>
public sealed class FakeEngine
{
    private volatile Dictionary<string, FakeEngineLoad> _loads = new(StringComparer.Ordinal);
    private int _metricsRequests;
    private int _slotsRequests;

    public FakeEngineKind Kind { get; set; }

    public FakeEngineBody Body { get; set; }

    /// <summary>llama.cpp's <c>--parallel</c>: the slots <c>/slots</c> lists and <c>/props</c> counts.</summary>
    public int Slots { get; set; } = 4;

    public int MetricsRequests => Volatile.Read(ref _metricsRequests);

    public int SlotsRequests => Volatile.Read(ref _slotsRequests);

    public IReadOnlyDictionary<string, FakeEngineLoad> Loads => _loads;

    public void SetLoad(string model, int running, int waiting, double kvUsage)
    {
        var loads = new Dictionary<string, FakeEngineLoad>(_loads, StringComparer.Ordinal) { [model] = new(running, waiting, kvUsage) };
        _loads = loads;
    }

    /// <summary>The <c>/metrics</c> body of <paramref name="kind"/> reporting <paramref name="loads"/>.</summary>
    public static string Render(FakeEngineKind kind, IReadOnlyDictionary<string, FakeEngineLoad> loads, FakeEngineBody body = FakeEngineBody.Good)
    {
        var text = new StringBuilder();
        string Waiting(FakeEngineLoad load) => body == FakeEngineBody.NaN ? "NaN" : Python(load.Waiting);
        string Running(FakeEngineLoad load) => body == FakeEngineBody.Negative ? "-3.0" : Python(load.Running);

        // prometheus_client writes one family at a time: HELP, TYPE, then every labelled sample, labels sorted by name.
        void Family(string name, string type, string help, Func<string, FakeEngineLoad, string> sample)
        {
            text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n");
            foreach (var (model, load) in loads)
            {
                text.Append(name).Append(sample(model, load)).Append('\n');
            }
        }

        switch (kind)
        {
            case FakeEngineKind.Vllm:
                static string V1(string model) => $"{{engine=\"0\",model_name=\"{model}\"}}";
                PythonProcessPreamble(text);
                Family("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", (m, l) => $"{V1(m)} {Running(l)}");
                Family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", (m, l) => $"{V1(m)} {Waiting(l)}");
                Family("vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use vllm:kv_cache_usage_perc instead.", (m, l) => $"{V1(m)} {Python(l.KvUsage)}");
                Family("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", (m, l) => $"{V1(m)} {Python(l.KvUsage)}");
                Family("vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.", (m, _) => $"{V1(m)} 4096.0");
                Family("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", (m, _) => $"{V1(m)} 1234.0");
                text.Append("# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.\n# TYPE vllm:time_to_first_token_seconds histogram\n");
                foreach (var model in loads.Keys)
                {
                    foreach (var le in new[] { "0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5", "+Inf" })
                    {
                        text.Append(CultureInfo.InvariantCulture, $"vllm:time_to_first_token_seconds_bucket{{engine=\"0\",le=\"{le}\",model_name=\"{model}\"}} 2.0\n");
                    }

                    text.Append(CultureInfo.InvariantCulture, $"vllm:time_to_first_token_seconds_count{V1(model)} 2.0\nvllm:time_to_first_token_seconds_sum{V1(model)} 0.0311\n");
                }

                text.Append("# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n# TYPE vllm:cache_config_info gauge\n")
                    .Append("vllm:cache_config_info{block_size=\"16\",cache_dtype=\"auto\",enable_prefix_caching=\"True\",engine=\"0\",gpu_memory_utilization=\"0.9\",num_gpu_blocks=\"27482\",prefix_caching_hash_algo=\"builtin\"} 1.0\n");
                break;

            case FakeEngineKind.VllmV0:
                static string V0(string model) => $"{{model_name=\"{model}\"}}";
                PythonProcessPreamble(text);
                text.Append("# HELP vllm:cache_config_info information of cache_config\n# TYPE vllm:cache_config_info gauge\n")
                    .Append("vllm:cache_config_info{block_size=\"16\",cache_dtype=\"auto\",gpu_memory_utilization=\"0.9\",num_cpu_blocks=\"2048\",num_gpu_blocks=\"7282\",swap_space_bytes=\"4294967296\"} 1.0\n");
                Family("vllm:num_requests_running", "gauge", "Number of requests currently running on GPU.", (m, l) => $"{V0(m)} {Running(l)}");
                Family("vllm:num_requests_swapped", "gauge", "Number of requests swapped to CPU.", (m, _) => $"{V0(m)} 0.0");
                Family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", (m, l) => $"{V0(m)} {Waiting(l)}");
                Family("vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage.", (m, l) => $"{V0(m)} {Python(l.KvUsage)}");
                Family("vllm:cpu_cache_usage_perc", "gauge", "CPU KV-cache usage. 1 means 100 percent usage.", (m, _) => $"{V0(m)} 0.0");
                Family("vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.", (m, _) => $"{V0(m)} 0.0");
                break;

            case FakeEngineKind.Sglang:
                static string Sg(string model) => $"{{engine_type=\"unified\",model_name=\"{model}\",moe_ep_rank=\"0\",pp_rank=\"0\",tp_rank=\"0\"}}";
                Family("sglang:num_running_reqs", "gauge", "The number of running requests.", (m, l) => $"{Sg(m)} {Running(l)}");
                Family("sglang:num_used_tokens", "gauge", "The number of used tokens.", (m, _) => $"{Sg(m)} 5120.0");
                Family("sglang:token_usage", "gauge", "The token usage.", (m, l) => $"{Sg(m)} {Python(l.KvUsage)}");
                Family("sglang:gen_throughput", "gauge", "The generation throughput (token/s).", (m, _) => $"{Sg(m)} 812.4");
                Family("sglang:num_queue_reqs", "gauge", "The number of requests in the waiting queue.", (m, l) => $"{Sg(m)} {Waiting(l)}");
                Family("sglang:num_grammar_queue_reqs", "gauge", "The number of requests in the grammar waiting queue.", (m, _) => $"{Sg(m)} 0.0");
                Family("sglang:cache_hit_rate", "gauge", "The prefix cache hit rate.", (m, _) => $"{Sg(m)} 0.31");
                Family("sglang:max_total_num_tokens", "gauge", "Maximum total number of tokens in the KV cache pool.", (m, _) => $"{Sg(m)} 283152.0");
                Family("sglang:prompt_tokens_total", "counter", "Number of prefill tokens processed.", (m, _) => $"{{engine_type=\"unified\",model_name=\"{m}\"}} 98765.0");
                break;

            case FakeEngineKind.LlamaCpp:
            case FakeEngineKind.LlamaCppWithKv:
                var single = loads.Values.FirstOrDefault();
                LlamaFamily(text, "prompt_tokens_total", "counter", "Number of prompt tokens processed.", "6886");
                LlamaFamily(text, "prompt_seconds_total", "counter", "Prompt process time", "2903.63");
                LlamaFamily(text, "tokens_predicted_total", "counter", "Number of generation tokens processed.", "3469");
                LlamaFamily(text, "tokens_predicted_seconds_total", "counter", "Predict process time", "3544.27");
                LlamaFamily(text, "n_decode_total", "counter", "Total number of llama_decode() calls", "3467");
                LlamaFamily(text, "n_busy_slots_per_decode", "counter", "Average number of busy slots per llama_decode() call", "1.0023");
                LlamaFamily(text, "prompt_tokens_seconds", "gauge", "Average prompt throughput in tokens/s.", "2.37151");
                LlamaFamily(text, "predicted_tokens_seconds", "gauge", "Average generation throughput in tokens/s.", "0.978737");
                if (kind == FakeEngineKind.LlamaCppWithKv)
                {
                    LlamaFamily(text, "kv_cache_usage_ratio", "gauge", "KV-cache usage. 1 means 100 percent usage.", Cpp(single.KvUsage));
                    LlamaFamily(text, "kv_cache_tokens", "gauge", "KV-cache tokens.", "512");
                }

                LlamaFamily(text, "requests_processing", "gauge", "Number of requests processing.", body == FakeEngineBody.Negative ? "-3" : Cpp(single.Running));
                LlamaFamily(text, "requests_deferred", "gauge", "Number of requests deferred.", body == FakeEngineBody.NaN ? "nan" : Cpp(single.Waiting));
                break;
        }

        return text.ToString();
    }

    /// <summary>llama.cpp's <c>/slots</c>: one object per slot, the first <paramref name="processing"/> busy.</summary>
    public static string RenderSlots(int slots, int processing)
    {
        var text = new StringBuilder("[");
        for (var i = 0; i < slots; i++)
        {
            var busy = i < processing;
            text.Append(i == 0 ? string.Empty : ",")
                .Append(CultureInfo.InvariantCulture, $$"""{"id":{{i}},"n_ctx":4096,"speculative":false,"is_processing":{{(busy ? "true" : "false")}}""")
                .Append(CultureInfo.InvariantCulture, $$""","id_task":{{(busy ? 17 + i : -1)}},"params":{"n_predict":-1,"seed":4294967295,"temperature":0.8,"stop":["</s>","}"],"samplers":["top_k","top_p","temperature"]},"prompt":"<|user|>\nWrite \"a\" {brace}\\ story","next_token":[{"has_next_token":{{(busy ? "true" : "false")}},"has_new_line":false,"n_remain":-1,"n_decoded":{{(busy ? 12 : 0)}}}]}""");
        }

        return text.Append(']').ToString();
    }

    internal void Map(WebApplication app)
    {
        app.MapGet("/metrics", MetricsAsync);
        app.MapGet("/slots", SlotsAsync);
        app.MapGet("/props", PropsAsync);
    }

    private static void PythonProcessPreamble(StringBuilder text) => text
        .Append("# HELP python_gc_objects_collected_total Objects collected during gc\n# TYPE python_gc_objects_collected_total counter\n")
        .Append("python_gc_objects_collected_total{generation=\"0\"} 12873.0\npython_gc_objects_collected_total{generation=\"1\"} 4012.0\n")
        .Append("# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 2.712195072e+09\n");

    private static void LlamaFamily(StringBuilder text, string name, string type, string help, string value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP llamacpp:{name} {help}\n# TYPE llamacpp:{name} {type}\nllamacpp:{name} {value}\n");

    // Python prints floats with a decimal point ("3.0"); C++'s stream prints integral values bare ("3").
    private static string Python(double value) =>
        value == Math.Floor(value) ? value.ToString("0.0", CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);

    private static string Cpp(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    private async Task MetricsAsync(HttpContext context)
    {
        Interlocked.Increment(ref _metricsRequests);
        switch (Kind)
        {
            case FakeEngineKind.None:
                context.Response.StatusCode = 404;
                await context.Response.WriteAsync("{\"detail\":\"Not Found\"}");
                return;
            case FakeEngineKind.LlamaCppSlots:
                context.Response.StatusCode = 501;
                await context.Response.WriteAsJsonAsync(new { error = new { code = 501, message = "This server does not support metrics endpoint. Start it with `--metrics`", type = "not_supported_error" } });
                return;
        }

        context.Response.ContentType = Kind is FakeEngineKind.LlamaCpp or FakeEngineKind.LlamaCppWithKv ? "text/plain; version=0.0.4" : "text/plain; version=0.0.4; charset=utf-8";
        var good = Render(Kind, _loads, Body);
        switch (Body)
        {
            case FakeEngineBody.ServerError:
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("Internal Server Error");
                return;
            case FakeEngineBody.Garbage:
                var garbage = new byte[64 * 1024];
                new Random(17).NextBytes(garbage);
                await context.Response.Body.WriteAsync(garbage, context.RequestAborted);
                return;
            case FakeEngineBody.Stall:
                await context.Response.WriteAsync(good[..(good.Length / 2)], context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
                return;
            case FakeEngineBody.Huge:
                await SendHugeAsync(context, good);
                return;
            default:
                await context.Response.WriteAsync(good, context.RequestAborted);
                return;
        }
    }

    private async Task SendHugeAsync(HttpContext context, string good)
    {
        var padding = Encoding.ASCII.GetBytes("# " + new string('x', 1021) + "\n");
        try
        {
            await context.Response.WriteAsync(good, context.RequestAborted);

            // Kestrel may drop writes to a connection the peer closed without failing them: stop once it knows.
            for (var sent = (long)good.Length; sent < 100_000_000 && !context.RequestAborted.IsCancellationRequested; sent += padding.Length)
            {
                await context.Response.Body.WriteAsync(padding, context.RequestAborted);
            }

            await context.Response.CompleteAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The reader hung up, as it should.
        }
    }

    private async Task SlotsAsync(HttpContext context)
    {
        Interlocked.Increment(ref _slotsRequests);
        if (Kind is not (FakeEngineKind.LlamaCpp or FakeEngineKind.LlamaCppWithKv or FakeEngineKind.LlamaCppSlots))
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(RenderSlots(Slots, Math.Min(Slots, _loads.Values.FirstOrDefault().Running)), context.RequestAborted);
    }

    private async Task PropsAsync(HttpContext context)
    {
        if (Kind is not (FakeEngineKind.LlamaCpp or FakeEngineKind.LlamaCppWithKv or FakeEngineKind.LlamaCppSlots))
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(
            $$$"""{"default_generation_settings":{"n_ctx":4096,"params":{"n_predict":-1,"temperature":0.8}},"total_slots":{{{Slots}}},"model_path":"/models/model.gguf","modalities":{"vision":false,"audio":false},"chat_template":"{% for message in messages %}{{ message.content }}{% endfor %}","bos_token":"<s>","eos_token":"</s>","build_info":"b5600-1e1b2f3"}""",
            context.RequestAborted);
    }
}
