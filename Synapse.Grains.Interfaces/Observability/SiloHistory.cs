namespace Synapse.Grains.Observability;

/// <summary>
/// One silo's history of one model (or of all of them) for the seconds <see cref="From"/> to <see cref="To"/>
/// (Unix seconds, both included): one array element per second, -1 where the silo has no record (before it
/// started, or a queue it did not sample). Rates are this silo's alone and are summed across silos; the queue is a
/// cluster-wide gauge each silo samples, so it is merged with a max.
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.SiloHistory")]
public sealed record SiloHistory
{
    [Id(0)] public required long From { get; init; }

    [Id(1)] public required long To { get; init; }

    /// <summary>Models this silo keeps a history for.</summary>
    [Id(2)] public required string[] Models { get; init; }

    /// <summary>Some model was counted in the silo's total only, because the silo already tracked as many models as it may.</summary>
    [Id(3)] public bool ModelsCapped { get; init; }

    [Id(4)] public required int[] Requests { get; init; }

    /// <summary>Calls answered with a status of 400 or more, or whose stream broke after its head went out.</summary>
    [Id(5)] public required int[] Errors { get; init; }

    /// <summary>Output tokens as upstreams reported them in <c>usage</c>, counted when the call ended.</summary>
    [Id(6)] public required int[] OutputTokens { get; init; }

    /// <summary>Requests waiting for a free instance, or -1 where the silo had no recent sample.</summary>
    [Id(7)] public required int[] Queue { get; init; }

    /// <summary>
    /// Time-to-first-token histograms, sparse: one entry per (second, bucket) that counted anything, packed as
    /// <c>offset &lt;&lt; 22 | bucket &lt;&lt; 16 | count</c> with offset the second's index from <see cref="From"/>.
    /// Buckets are fixed (see the gateway's <c>LatencyBuckets</c>), so histograms from all silos add up exactly.
    /// </summary>
    [Id(8)] public required uint[] TimeToFirstToken { get; init; }
}
