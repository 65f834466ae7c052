namespace Synapse.Silo.Observability.History;

/// <summary>
/// The last 15 minutes of one series (one model, or the whole silo) at one-second resolution. Calls are counted
/// into a small set of live seconds with interlocked adds (no lock, no allocation); once a second is over, the
/// sampler seals it into the ring under a lock that only the sampler and readers take. Per series this holds
/// about 120 KB, most of it the time-to-first-token histograms (900 s × 54 buckets × 2 bytes).
/// </summary>
internal sealed class HistoryRing
{
    public const int Seconds = 900;

    /// <summary>
    /// Seconds counted at once: a call ending in second s writes live slot s mod 8, which the sampler seals soon
    /// after s ends; a slot is reused for s + 8, so a sampler late by up to 6 s loses nothing.
    /// </summary>
    private const int LiveSeconds = 8;

    private readonly LiveSecond[] _live = new LiveSecond[LiveSeconds];
    private readonly long[] _stamps = new long[Seconds];
    private readonly int[] _requests = new int[Seconds];
    private readonly int[] _errors = new int[Seconds];
    private readonly int[] _tokens = new int[Seconds];
    private readonly int[] _queue = new int[Seconds];
    private readonly ushort[] _ttft = new ushort[Seconds * LatencyBuckets.Count];
    private readonly Lock _lock = new();

    public HistoryRing(long createdAt)
    {
        LastActive = createdAt;
        for (var i = 0; i < LiveSeconds; i++)
        {
            _live[i] = new LiveSecond();
        }
    }

    /// <summary>The last second that counted a call or a queue (written by the sampler only).</summary>
    public long LastActive { get; private set; }

    /// <summary>Counts one finished call into the second it ended in. Safe from any thread.</summary>
    /// <param name="ttftBucket">The time-to-first-token bucket, or -1 when the call had none.</param>
    public void Record(long second, bool failed, int ttftBucket, long outputTokens)
    {
        var live = _live[second & (LiveSeconds - 1)];
        Interlocked.Increment(ref live.Requests);
        if (failed)
        {
            Interlocked.Increment(ref live.Errors);
        }

        if (outputTokens > 0)
        {
            Interlocked.Add(ref live.OutputTokens, outputTokens);
        }

        if (ttftBucket >= 0)
        {
            Interlocked.Increment(ref live.TimeToFirstToken[ttftBucket]);
        }
    }

    /// <summary>Moves a finished second from the live slots into the ring, with the queue sampled for it (-1: none).</summary>
    public void Seal(long second, int queue)
    {
        var live = _live[second & (LiveSeconds - 1)];
        var index = (int)(second % Seconds);
        var active = queue > 0;
        lock (_lock)
        {
            _stamps[index] = second;
            _requests[index] = Interlocked.Exchange(ref live.Requests, 0);
            _errors[index] = Interlocked.Exchange(ref live.Errors, 0);
            _tokens[index] = (int)Math.Min(Interlocked.Exchange(ref live.OutputTokens, 0), int.MaxValue);
            _queue[index] = queue;
            var histogram = _ttft.AsSpan(index * LatencyBuckets.Count, LatencyBuckets.Count);
            for (var bucket = 0; bucket < LatencyBuckets.Count; bucket++)
            {
                histogram[bucket] = (ushort)Math.Min(Interlocked.Exchange(ref live.TimeToFirstToken[bucket], 0), ushort.MaxValue);
            }

            active |= _requests[index] > 0;
        }

        if (active)
        {
            LastActive = second;
        }
    }

    /// <summary>
    /// Copies the seconds <paramref name="from"/> to <paramref name="from"/> + length - 1 into the arrays (one element
    /// per second); seconds the ring does not hold read as -1 (unknown).
    /// </summary>
    public void CopyTo(long from, Span<int> requests, Span<int> errors, Span<int> tokens, Span<int> queue, List<uint> timeToFirstToken)
    {
        lock (_lock)
        {
            for (var offset = 0; offset < requests.Length; offset++)
            {
                var second = from + offset;
                var index = (int)(second % Seconds);
                if (_stamps[index] != second)
                {
                    requests[offset] = errors[offset] = tokens[offset] = queue[offset] = -1;
                    continue;
                }

                requests[offset] = _requests[index];
                errors[offset] = _errors[index];
                tokens[offset] = _tokens[index];
                queue[offset] = _queue[index];
                var histogram = _ttft.AsSpan(index * LatencyBuckets.Count, LatencyBuckets.Count);
                for (var bucket = 0; bucket < histogram.Length; bucket++)
                {
                    if (histogram[bucket] != 0)
                    {
                        timeToFirstToken.Add(HistoryPacking.Pack(offset, bucket, histogram[bucket]));
                    }
                }
            }
        }
    }

    /// <summary>Counts of the second being written; reset when sealed.</summary>
    private sealed class LiveSecond
    {
        public readonly int[] TimeToFirstToken = new int[LatencyBuckets.Count];
        public int Requests;
        public int Errors;
        public long OutputTokens;
    }
}
