using Synapse.Bench.Load.Load;

namespace Synapse.Bench.Load.Suite;

/// <summary>What the callers send and how many of them there are.</summary>
internal sealed record Workload(string Id, string Label, bool Stream, int Tokens, int DelayMs, int Concurrency)
{
    public LoadSpec ToSpec(Uri baseUrl, SuiteSettings settings) => new()
    {
        BaseUrl = baseUrl,
        Stream = Stream,
        Tokens = Tokens,
        DelayMs = DelayMs,
        Concurrency = Concurrency,
        Duration = settings.Duration,
        // Hundreds of callers need longer to open their connections and reach a steady state.
        Warmup = Concurrency > 100 ? settings.Warmup + TimeSpan.FromSeconds(1) : settings.Warmup,
    };
}
