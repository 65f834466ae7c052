using Synapse.Silo.Observability.History;

namespace Synapse.Tests.Observability.History;

[Trait("Category", "Unit")]
public sealed class LatencyBucketsTests
{
    [Theory]
    [InlineData(0.3)]
    [InlineData(0.9)]
    [InlineData(1)]
    [InlineData(7.5)]
    [InlineData(42)]
    [InlineData(350)]
    [InlineData(2_000)]
    [InlineData(30_000)]
    public void Percentile_OfOneLatency_IsWithinTheBucketWidth(double milliseconds)
    {
        var counts = new int[LatencyBuckets.Count];
        counts[LatencyBuckets.Of(milliseconds)] = 10;

        var median = LatencyBuckets.Percentile(counts, 0.5)!.Value;

        Assert.InRange(median, LowerBound(milliseconds), milliseconds * 1.27);
    }

    [Fact]
    public void Percentile_OfManyLatencies_IsCloseToTheExactOne()
    {
        var random = new Random(18);
        var samples = Enumerable.Range(0, 20_000).Select(_ => 0.5 * Math.Exp(random.NextDouble() * Math.Log(10_000))).ToArray();
        var counts = new int[LatencyBuckets.Count];
        foreach (var sample in samples)
        {
            counts[LatencyBuckets.Of(sample)]++;
        }

        Array.Sort(samples);
        foreach (var quantile in new[] { 0.5, 0.95, 0.99 })
        {
            var exact = samples[(int)(quantile * samples.Length) - 1];
            var estimate = LatencyBuckets.Percentile(counts, quantile)!.Value;
            Assert.InRange(estimate, exact * 0.88, exact * 1.12);
        }
    }

    [Fact]
    public void Percentile_OfNothing_IsNull() => Assert.Null(LatencyBuckets.Percentile(new int[LatencyBuckets.Count], 0.5));

    [Fact]
    public void Of_BeyondTheLastBound_IsTheLastBucket()
    {
        Assert.Equal(LatencyBuckets.Count - 1, LatencyBuckets.Of(3_600_000));
        Assert.Equal(0, LatencyBuckets.Of(double.NaN));
    }

    private static double LowerBound(double milliseconds) => milliseconds / 1.27;
}
