using System.Globalization;

namespace Synapse.Bench.Load.Soak;

/// <summary>
/// One reading of one silo: resident memory, threads and open handles from /proc, and the GC heap as the silo's own
/// /metrics reports it (<c>dotnet_gc_last_collection_heap_size_bytes</c>, summed over generations: the heap's size
/// after the last collection; <c>..._memory_committed_size_bytes</c>: what the GC had committed then). Null where a
/// reading failed (the process gone, /metrics not answering in time).
/// </summary>
internal sealed record SoakSample(double ElapsedSeconds, string Silo, int Pid, long? RssKb, long? GcHeapBytes, long? GcCommittedBytes, int? Threads, int? Handles, int InFlight, long Ok, long Errors, long WalkedAway, long Hung)
{
    public const string CsvHeader = "elapsed_s,silo,pid,rss_kb,gc_heap_bytes,gc_committed_bytes,threads,handles,calls_in_flight,ok,errors,walked_away,hung";

    public string ToCsv() => string.Join(',',
        ElapsedSeconds.ToString("0.0", CultureInfo.InvariantCulture), Silo, Pid.ToString(CultureInfo.InvariantCulture), N(RssKb), N(GcHeapBytes), N(GcCommittedBytes), N(Threads), N(Handles),
        N(InFlight), N(Ok), N(Errors), N(WalkedAway), N(Hung));

    /// <summary>The metric named, as a number (null when not read).</summary>
    public double? Metric(string name) => name switch
    {
        "rss" => RssKb,
        "gc_heap" => GcHeapBytes,
        "gc_committed" => GcCommittedBytes,
        "threads" => Threads,
        "handles" => Handles,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown metric"),
    };

    /// <summary>VmRSS (KiB) and Threads from /proc/PID/status.</summary>
    public static (long? RssKb, int? Threads) ReadStatus(int pid)
    {
        long? rss = null;
        int? threads = null;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return (rss, threads);
    }

    /// <summary>Open file descriptors (files, sockets, pipes, epoll...): the entries of /proc/PID/fd.</summary>
    public static int? ReadHandles(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The GC heap after the last collection and the memory the GC had committed, from Prometheus text.</summary>
    public static (long? Heap, long? Committed) ParseGcMetrics(string text)
    {
        long? heap = null;
        long? committed = null;
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            var line = raw.Trim();
            if (line.StartsWith("dotnet_gc_last_collection_heap_size_bytes", StringComparison.Ordinal))
            {
                heap = (heap ?? 0) + Value(line);
            }
            else if (line.StartsWith("dotnet_gc_last_collection_memory_committed_size_bytes", StringComparison.Ordinal))
            {
                committed = Value(line);
            }
        }

        return (heap, committed);

        // name{labels} value [timestamp]
        static long Value(ReadOnlySpan<char> line)
        {
            var brace = line.LastIndexOf('}');
            var rest = (brace >= 0 ? line[(brace + 1)..] : line[(line.IndexOf(' ') + 1)..]).Trim();
            var space = rest.IndexOf(' ');
            return (long)double.Parse(space < 0 ? rest : rest[..space], NumberStyles.Float, CultureInfo.InvariantCulture);
        }
    }

    private static string N(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? string.Empty;
}
