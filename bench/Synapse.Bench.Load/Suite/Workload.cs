using Synapse.Bench.Load.Load;

namespace Synapse.Bench.Load.Suite;

/// <summary>What the callers send and how many of them there are.</summary>
internal sealed record Workload(string Id, string Label, bool Stream, int Tokens, int DelayMs, int Concurrency)
{
    public LoadSpec ToSpec(CallTarget target, SuiteSettings settings) => new()
    {
        BaseUrl = target.Url,
        ApiKey = target.ApiKey,
        Stream = Stream,
        Tokens = Tokens,
        DelayMs = DelayMs,
        Concurrency = Concurrency,
        Duration = settings.Duration,
        // Hundreds of callers need longer to open their connections, and paced streams start spread over one
        // stream's duration (see LoadSession): the warm-up covers that and one more stream.
        Warmup = settings.Warmup + (Concurrency > 100 ? TimeSpan.FromSeconds(1) : TimeSpan.Zero) + TimeSpan.FromMilliseconds(2.0 * DelayMs * Tokens),
    };
}
