using System.Collections.Concurrent;

namespace Synapse.Silo.Observability;

/// <summary>
/// Keeps a flood of refused requests (a key being guessed, a scanner, a client stuck on a wrong model name) from
/// flooding the log: per kind of refusal, at most <see cref="Budget"/> lines per <see cref="Window"/>. The first line
/// after a quiet stretch is preceded by one saying how many were left out, so the count is never lost.
/// </summary>
internal sealed partial class RefusalLogLimiter(ILogger<RefusalLogLimiter> logger)
{
    public const int Budget = 20;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>True when a refusal of this kind may be logged now.</summary>
    public bool ShouldLog(string kind)
    {
        var bucket = _buckets.GetOrAdd(kind, static _ => new Bucket());
        long suppressed;
        lock (bucket)
        {
            var now = Environment.TickCount64;
            if (now - bucket.WindowStart >= Window.TotalMilliseconds)
            {
                bucket.WindowStart = now;
                bucket.Logged = 0;
            }

            if (bucket.Logged >= Budget)
            {
                bucket.Suppressed++;
                return false;
            }

            bucket.Logged++;
            suppressed = bucket.Suppressed;
            bucket.Suppressed = 0;
        }

        if (suppressed > 0)
        {
            LogSuppressed(logger, suppressed, kind);
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} more refusals ({Kind}) were not logged")]
    private static partial void LogSuppressed(ILogger logger, long count, string kind);

    private sealed class Bucket
    {
        public long WindowStart = long.MinValue / 2;
        public int Logged;
        public long Suppressed;
    }
}
