namespace Synapse.Grains.Models;

/// <summary>One agent serving a model, possibly over sockets on several silos; one capacity whatever the count.</summary>
public sealed class ModelInstance
{
    internal ModelInstance(string agentId) => AgentId = agentId;

    public string AgentId { get; }

    public string? Name { get; internal set; }

    public string? Hostname { get; internal set; }

    public string? AgentVersion { get; internal set; }

    public int Capacity { get; internal set; } = 1;

    public int InFlight { get; internal set; }

    public string MetadataJson { get; internal set; } = "{}";

    /// <summary>
    /// Recent time to the response head, in milliseconds: the median of the last few requests (so one slow first call,
    /// a cold connection or JIT, does not brand an instance slow), 0 until three were measured.
    /// </summary>
    public double LatencyMs { get; private set; }

    public int ConsecutiveFailures { get; internal set; }

    internal long CooldownUntilTick { get; set; }

    internal Dictionary<string, InstanceConnection> Connections { get; } = new(StringComparer.Ordinal);

    private readonly double[] _latencySamples = new double[5];
    private int _latencyCount;

    internal void RecordLatency(double timeToHeadMs)
    {
        _latencySamples[_latencyCount++ % _latencySamples.Length] = timeToHeadMs;
        if (_latencyCount < 3)
        {
            return;
        }

        Span<double> sorted = stackalloc double[Math.Min(_latencyCount, _latencySamples.Length)];
        _latencySamples.AsSpan(0, sorted.Length).CopyTo(sorted);
        sorted.Sort();
        LatencyMs = sorted[sorted.Length / 2];
    }

    /// <summary>In-flight relative to capacity: 0 idle, 1 full.</summary>
    public double Load => (double)InFlight / Math.Max(1, Capacity);

    public bool HasConnectionOn(SiloAddress silo)
    {
        foreach (var connection in Connections.Values)
        {
            if (!connection.Draining && connection.Silo.Equals(silo))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Orders by load, then by recent latency; negative when <paramref name="a"/> is the better choice, 0 when they are
    /// as good (the policy then picks at random). Latencies count only when one instance is really slower: within 25 %
    /// (or 2 ms) of each other they are noise, and an instance not measured yet is as good as any, otherwise one of two
    /// equal idle instances would win every sequential request.
    /// </summary>
    public static int CompareLoad(ModelInstance a, ModelInstance b)
    {
        var byLoad = a.Load.CompareTo(b.Load);
        if (byLoad != 0)
        {
            return byLoad;
        }

        if (a.LatencyMs == 0 || b.LatencyMs == 0)
        {
            return 0;
        }

        var tolerance = Math.Max(0.25 * Math.Max(a.LatencyMs, b.LatencyMs), 2.0);
        return Math.Abs(a.LatencyMs - b.LatencyMs) <= tolerance ? 0 : a.LatencyMs.CompareTo(b.LatencyMs);
    }
}
