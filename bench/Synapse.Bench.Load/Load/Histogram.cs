namespace Synapse.Bench.Load.Load;

/// <summary>
/// Log-bucketed latency histogram: about 1% resolution from 1 µs to over an hour, fixed memory, one per caller so
/// recording takes no lock; merged at the end.
/// </summary>
internal sealed class Histogram
{
    private const double BucketsPerEFold = 100;
    private readonly long[] _counts = new long[2300];

    public long Count { get; private set; }

    public double SumMs { get; private set; }

    public double MaxMs { get; private set; }

    public double MeanMs => Count == 0 ? double.NaN : SumMs / Count;

    public void Record(double ms)
    {
        var micros = Math.Max(1.0, ms * 1000.0);
        var index = Math.Clamp((int)(Math.Log(micros) * BucketsPerEFold), 0, _counts.Length - 1);
        _counts[index]++;
        Count++;
        SumMs += ms;
        MaxMs = Math.Max(MaxMs, ms);
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        SumMs += other.SumMs;
        MaxMs = Math.Max(MaxMs, other.MaxMs);
    }

    /// <summary>The value at percentile <paramref name="percent"/> (0-100), in milliseconds; NaN when empty.</summary>
    public double Percentile(double percent)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percent / 100.0 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                // Middle of the bucket, never above the largest value seen.
                return Math.Min(MaxMs, Math.Exp((i + 0.5) / BucketsPerEFold) / 1000.0);
            }
        }

        return MaxMs;
    }
}
