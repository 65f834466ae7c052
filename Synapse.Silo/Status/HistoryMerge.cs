using System.Buffers;
using Synapse.Grains.Observability;
using Synapse.Silo.Observability.History;

namespace Synapse.Silo.Status;

/// <summary>Merges the silos' histories second by second into the cluster's.</summary>
internal static class HistoryMerge
{
    public const int Window = HistoryRing.Seconds;

    /// <param name="since">The page's last second (0 for the whole window): the answer starts after it.</param>
    /// <param name="asked">How many silos were asked (<paramref name="answers"/> holds those that answered).</param>
    public static ClusterHistory Merge(long since, string? model, IReadOnlyList<SiloHistory> answers, int asked)
    {
        // The newest second any silo sealed: a silo a moment behind fills its part on the page's next poll, which
        // asks again for the last few seconds.
        var to = answers.Count == 0 ? since : answers.Max(a => a.To);
        var from = Math.Max(since + 1, to - Window + 1);
        var length = (int)Math.Max(0, to - from + 1);
        var requests = new int?[length];
        var errors = new int?[length];
        var tokens = new long?[length];
        var queue = new int?[length];
        var p50 = new double?[length];
        var p95 = new double?[length];
        var histograms = ArrayPool<int>.Shared.Rent(Math.Max(1, length * LatencyBuckets.Count));
        try
        {
            Array.Clear(histograms, 0, length * LatencyBuckets.Count);
            foreach (var answer in answers)
            {
                var shift = answer.From - from;
                AddCounts(answer, shift, requests, errors, tokens, queue);
                AddLatencies(answer, shift, length, histograms);
            }

            for (var at = 0; at < length; at++)
            {
                var histogram = histograms.AsSpan(at * LatencyBuckets.Count, LatencyBuckets.Count);
                p50[at] = Round(LatencyBuckets.Percentile(histogram, 0.50));
                p95[at] = Round(LatencyBuckets.Percentile(histogram, 0.95));
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(histograms);
        }

        return new ClusterHistory(
            from,
            from + length - 1,
            model,
            [.. answers.SelectMany(a => a.Models).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            asked,
            answers.Count,
            answers.Any(a => a.ModelsCapped),
            requests,
            errors,
            tokens,
            queue,
            p50,
            p95);
    }

    /// <summary>Adds a silo's counts into the cluster's seconds; <paramref name="shift"/> places its first second, and a negative entry (no sample) adds nothing.</summary>
    private static void AddCounts(SiloHistory answer, long shift, int?[] requests, int?[] errors, long?[] tokens, int?[] queue)
    {
        var length = requests.Length;
        for (var offset = 0; offset < answer.Requests.Length; offset++)
        {
            var position = shift + offset;
            if (position < 0 || position >= length)
            {
                continue;
            }

            var at = (int)position;
            if (answer.Requests[offset] >= 0)
            {
                requests[at] = (requests[at] ?? 0) + answer.Requests[offset];
                errors[at] = (errors[at] ?? 0) + answer.Errors[offset];
                tokens[at] = (tokens[at] ?? 0) + answer.OutputTokens[offset];
            }

            if (answer.Queue[offset] >= 0)
            {
                queue[at] = Math.Max(queue[at] ?? 0, answer.Queue[offset]);
            }
        }
    }

    /// <summary>Adds a silo's time-to-first-token counts to the cluster's histogram of each second.</summary>
    private static void AddLatencies(SiloHistory answer, long shift, int length, int[] histograms)
    {
        foreach (var entry in answer.TimeToFirstToken)
        {
            var (offset, bucket, count) = HistoryPacking.Unpack(entry);
            var position = shift + offset;
            if (position >= 0 && position < length && bucket < LatencyBuckets.Count)
            {
                histograms[((int)position * LatencyBuckets.Count) + bucket] += count;
            }
        }
    }

    /// <summary>Three significant digits or so: the buckets are not finer than that, and the page polls this every second.</summary>
    private static double? Round(double? milliseconds) => milliseconds switch
    {
        null => null,
        < 10 => Math.Round(milliseconds.Value, 2),
        < 100 => Math.Round(milliseconds.Value, 1),
        _ => Math.Round(milliseconds.Value),
    };
}
