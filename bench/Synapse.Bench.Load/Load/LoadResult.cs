namespace Synapse.Bench.Load.Load;

/// <summary>What one measurement saw. Times in milliseconds; stream figures are null for non-streaming calls.</summary>
internal sealed record LoadResult
{
    public required LoadSpec Spec { get; init; }

    /// <summary>Requests that started in the window and succeeded.</summary>
    public long Ok { get; init; }

    /// <summary>Requests that started in the window and failed (status, transport, truncated or error stream).</summary>
    public long Errors { get; init; }

    public IReadOnlyDictionary<string, long> ErrorKinds { get; init; } = new Dictionary<string, long>();

    public double RequestsPerSecond { get; init; }

    public double LatencyP50Ms { get; init; }

    public double LatencyP99Ms { get; init; }

    public double LatencyMeanMs { get; init; }

    /// <summary>Time to the first SSE event.</summary>
    public double? TtftP50Ms { get; init; }

    public double? TtftP99Ms { get; init; }

    /// <summary>Mean time between consecutive SSE events of one stream, as the caller reads them.</summary>
    public double? GapMeanMs { get; init; }

    public double? GapP99Ms { get; init; }

    public double? EventsPerStream { get; init; }

    /// <summary>Measured seconds (the sum of the slices' windows).</summary>
    public double Seconds { get; init; }

    /// <summary>How many alternating slices the measurement was made of.</summary>
    public int Slices { get; init; }
}
