namespace Synapse.Silo.Observability.History;

/// <summary>
/// Fixed, log-spaced latency buckets: three per doubling from 0.25 ms (bucket 0 is below that, the last one is 41 s
/// and above). A bucket is 26% wide, so a percentile read from it is within about 12% of the true value. Being fixed,
/// histograms from different seconds and silos merge by adding counts, which is how percentiles are taken across
/// the cluster (percentiles themselves never average).
/// </summary>
internal static class LatencyBuckets
{
    public const int Count = 54;

    private const double StepsPerDoubling = 3;

    /// <summary>The first bound is 2^-2 ms.</summary>
    private const double FirstExponent = -2;

    private const double FirstBoundMs = 0.25;

    /// <summary>The bucket a latency falls in.</summary>
    public static int Of(double milliseconds)
    {
        if (!(milliseconds >= FirstBoundMs))
        {
            return 0;
        }

        var index = (int)((Math.Log2(milliseconds) - FirstExponent) * StepsPerDoubling) + 1;
        return index < Count ? index : Count - 1;
    }

    /// <summary>Lower bound of a bucket in milliseconds.</summary>
    public static double LowerMs(int bucket) => bucket == 0 ? 0 : Math.Pow(2, FirstExponent + ((bucket - 1) / StepsPerDoubling));

    /// <summary>Upper bound of a bucket in milliseconds (the last bucket has none; its lower bound stands for it).</summary>
    public static double UpperMs(int bucket) => bucket >= Count - 1 ? LowerMs(bucket) : Math.Pow(2, FirstExponent + (bucket / StepsPerDoubling));

    /// <summary>
    /// The <paramref name="quantile"/> (0 to 1) of a histogram in milliseconds, interpolated geometrically inside its
    /// bucket (linearly in the first), or null when the histogram is empty.
    /// </summary>
    public static double? Percentile(ReadOnlySpan<int> counts, double quantile)
    {
        long total = 0;
        foreach (var count in counts)
        {
            total += count;
        }

        if (total == 0)
        {
            return null;
        }

        var rank = Math.Clamp(quantile, 0, 1) * total;
        long below = 0;
        for (var bucket = 0; bucket < counts.Length; bucket++)
        {
            var count = counts[bucket];
            if (count == 0)
            {
                continue;
            }

            if (below + count >= rank)
            {
                var fraction = Math.Clamp((rank - below) / count, 0, 1);
                var lower = LowerMs(bucket);
                var upper = UpperMs(bucket);
                return bucket == 0 ? upper * fraction : lower * Math.Pow(upper / lower, fraction);
            }

            below += count;
        }

        return LowerMs(counts.Length - 1);
    }
}
