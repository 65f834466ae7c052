namespace Synapse.Bench.Load.Load;

/// <summary>One measurement: who to call, with what, how many callers at once, for how long.</summary>
internal sealed record LoadSpec
{
    /// <summary>Base URL of the OpenAI-compatible server (gateway or upstream), without <c>/v1</c>.</summary>
    public required Uri BaseUrl { get; init; }

    public string Model { get; init; } = "bench-model";

    /// <summary>SSE stream (<c>"stream": true</c>) or one JSON answer.</summary>
    public bool Stream { get; init; }

    /// <summary>Tokens the fake upstream produces (<c>bench_tokens</c>).</summary>
    public int Tokens { get; init; } = 32;

    /// <summary>Wait before each token at the fake upstream (<c>bench_delay_ms</c>).</summary>
    public int DelayMs { get; init; }

    /// <summary>Callers, each with one request in flight at a time (a closed loop).</summary>
    public int Concurrency { get; init; } = 1;

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Sent as <c>Authorization: Bearer</c> when set: a gateway with keys answers 401 to a request without one.</summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// Each request's JSON body, from the caller's index, the slice (0 for the first) and the request's number among
    /// that caller's requests in the slice (from 0); null: every request sends the same body built from the fields above.
    /// </summary>
    public Func<int, int, int, byte[]>? Body { get; init; }

    /// <summary>A request taking longer than this counts as an error (timeout).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public string Describe() =>
        $"{(Stream ? $"{Tokens}-token stream" : "chat")}{(DelayMs > 0 ? $" ({DelayMs} ms/token)" : string.Empty)} x{Concurrency}";
}
