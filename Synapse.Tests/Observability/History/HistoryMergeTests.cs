using Synapse.Grains.Observability;
using Synapse.Silo.Observability.History;
using Synapse.Silo.Status;

namespace Synapse.Tests.Observability.History;

[Trait("Category", "Unit")]
public sealed class HistoryMergeTests
{
    private const long Second = 1_800_000_000;

    [Fact]
    public void Merge_TwoSilos_SumsRatesAndTakesPercentilesFromTheAddedHistograms()
    {
        // Silo A answered 1,000 calls in 10 ms, silo B 100 in 2 s. Averaging the silos' percentiles would give a
        // median of ~1 s; over the cluster the median is 10 ms, and the p95 (the 1,045th call of 1,100) is one of B's.
        var a = Silo(Second, requests: 1_000, errors: 0, tokens: 5_000, queue: 3, latencyMs: 10);
        var b = Silo(Second, requests: 100, errors: 7, tokens: 900, queue: 5, latencyMs: 2_000);

        var merged = HistoryMerge.Merge(Second - 1, model: null, [a, b], asked: 2);

        Assert.Equal((Second, Second), (merged.From, merged.To));
        Assert.Equal([1_100], merged.Requests);
        Assert.Equal([7], merged.Errors);
        Assert.Equal([5_900L], merged.OutputTokens);
        Assert.Equal([5], merged.Queue);
        Assert.InRange(merged.TimeToFirstTokenP50Ms[0]!.Value, 10 / 1.27, 10 * 1.27);
        Assert.InRange(merged.TimeToFirstTokenP95Ms[0]!.Value, 2_000 / 1.27, 2_000 * 1.27);
        Assert.Equal(2, merged.Answered);
    }

    [Fact]
    public void Merge_EvenSplit_MedianComesFromTheMergedCountsNotTheMiddleOfTwoMedians()
    {
        // 300 calls at 10 ms on one silo, 100 at 1 s on the other: the cluster's median is 10 ms; the mean of the
        // silos' medians would be ~505 ms.
        var merged = HistoryMerge.Merge(Second - 1, null, [Silo(Second, 300, 0, 0, -1, 10), Silo(Second, 100, 0, 0, -1, 1_000)], asked: 2);

        Assert.InRange(merged.TimeToFirstTokenP50Ms[0]!.Value, 10 / 1.27, 10 * 1.27);
        Assert.Equal([null], merged.Queue);
    }

    [Fact]
    public void Merge_SilosCoveringDifferentSeconds_AlignsThemBySecond()
    {
        var early = Series(Second - 2, [1, 2, 3]);
        var late = Series(Second - 1, [10, 20, 30]);

        var merged = HistoryMerge.Merge(Second - 3, "m", [early, late], asked: 3);

        Assert.Equal(Second - 2, merged.From);
        Assert.Equal(Second + 1, merged.To);
        Assert.Equal([1, 12, 23, 30], merged.Requests);
        Assert.Equal([null, null, null, null], merged.TimeToFirstTokenP50Ms);
        Assert.Equal((3, 2), (merged.Silos, merged.Answered));
        Assert.Equal("m", merged.Model);
    }

    [Fact]
    public void Merge_SecondsNoSiloRecorded_AreNullAndOthersCountTheSilosThatDid()
    {
        var restarted = Series(Second - 1, [-1, -1, 4]);
        var running = Series(Second - 1, [-1, 2, 3]);

        var merged = HistoryMerge.Merge(Second - 2, null, [restarted, running], asked: 2);

        Assert.Equal([null, 2, 7], merged.Requests);
        Assert.Equal([null, 0, 0], merged.Errors);
    }

    [Fact]
    public void Merge_Since_StartsAfterIt()
    {
        var merged = HistoryMerge.Merge(Second - 1, null, [Series(Second - 3, [1, 2, 3, 4])], asked: 1);

        Assert.Equal(Second, merged.From);
        Assert.Equal([4], merged.Requests);
    }

    [Fact]
    public void Merge_NoSiloAnswered_IsEmptyAndSaysSo()
    {
        var merged = HistoryMerge.Merge(Second, null, [], asked: 2);

        Assert.Empty(merged.Requests);
        Assert.Equal((2, 0), (merged.Silos, merged.Answered));
        Assert.True(merged.To < merged.From);
    }

    private static SiloHistory Silo(long second, int requests, int errors, int tokens, int queue, double latencyMs) => new()
    {
        From = second,
        To = second,
        Models = ["m"],
        Requests = [requests],
        Errors = [errors],
        OutputTokens = [tokens],
        Queue = [queue],
        TimeToFirstToken = [HistoryPacking.Pack(0, LatencyBuckets.Of(latencyMs), requests)],
    };

    private static SiloHistory Series(long from, int[] requests) => new()
    {
        From = from,
        To = from + requests.Length - 1,
        Models = [],
        Requests = requests,
        Errors = [.. requests.Select(r => Math.Min(r, 0))],
        OutputTokens = [.. requests.Select(r => Math.Min(r, 0))],
        Queue = [.. requests.Select(_ => -1)],
        TimeToFirstToken = [],
    };
}
