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

    /// <summary>The engine's own load (queue, KV cache), when the agent reads it; see <see cref="EngineQueueEstimate"/>.</summary>
    public EngineQueueEstimate Engine { get; } = new();

    /// <summary>
    /// Recent time to the response head, in milliseconds: the median of the last few requests (so one slow first call,
    /// a cold connection or JIT, does not brand an instance slow), 0 until three were measured.
    /// </summary>
    public double LatencyMs { get; private set; }

    public int ConsecutiveFailures { get; internal set; }

    /// <summary>
    /// Picks in a row that went to another instance as loaded as this one. Past <see cref="ReprobeAfter"/> this
    /// instance's latency stops counting against it: a latency measured once (a cold connection, a busy moment) is
    /// never refreshed while the instance gets no traffic, and would otherwise keep it idle for good.
    /// </summary>
    public int PassedOver { get; internal set; }

    /// <summary>How many equally loaded picks an instance can be passed over for its latency before it is tried again.</summary>
    public const int ReprobeAfter = 8;

    internal long CooldownUntilTick { get; set; }

    internal Dictionary<string, InstanceConnection> Connections { get; } = new(StringComparer.Ordinal);

    private readonly double[] _latencySamples = new double[5];
    private int _latencyCount;
    private bool _reprobing;

    internal void RecordLatency(double timeToHeadMs)
    {
        if (_reprobing)
        {
            // Tried again after being passed over: the fresh measurement replaces the old ones, so one good answer
            // clears an instance branded slow by a cold start, and one slow answer sends it back to the end.
            _reprobing = false;
            _latencySamples.AsSpan().Clear();
            _latencyCount = 0;
            for (var i = 0; i < 3; i++)
            {
                _latencySamples[_latencyCount++] = timeToHeadMs;
            }

            LatencyMs = timeToHeadMs;
            return;
        }

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

    /// <summary>After a pick: the chosen instance starts counting afresh, the equally loaded ones it beat count one more.</summary>
    internal static void Picked(ModelInstance picked, IReadOnlyList<ModelInstance> candidates)
    {
        foreach (var candidate in candidates)
        {
            if (!ReferenceEquals(candidate, picked) && candidate.Load == picked.Load)
            {
                candidate.PassedOver++;
            }
        }

        picked._reprobing |= picked.PassedOver >= ReprobeAfter;
        picked.PassedOver = 0;
    }

    /// <summary>
    /// Requests this instance holds: those in flight from this gateway, or, when its engine reports more (other
    /// clients, a queue), the engine's count.
    /// </summary>
    public int Occupancy => Math.Max(InFlight, Engine.Outstanding);

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
    /// equal idle instances would win every sequential request; an instance passed over <see cref="ReprobeAfter"/> times
    /// is as good as any until it has served again (its latency measured afresh).
    /// </summary>
    public static int CompareLoad(ModelInstance a, ModelInstance b)
    {
        var byLoad = a.Load.CompareTo(b.Load);
        if (byLoad != 0)
        {
            return byLoad;
        }

        if (a.LatencyMs == 0 || b.LatencyMs == 0 || a.PassedOver >= ReprobeAfter || b.PassedOver >= ReprobeAfter)
        {
            return 0;
        }

        var tolerance = Math.Max(0.25 * Math.Max(a.LatencyMs, b.LatencyMs), 2.0);
        return Math.Abs(a.LatencyMs - b.LatencyMs) <= tolerance ? 0 : a.LatencyMs.CompareTo(b.LatencyMs);
    }
}
