using System.IO.Hashing;
using System.Text;
using Synapse.Grains.Models;

namespace Synapse.Grains.Balancing;

/// <summary>
/// Prefix and session affinity: requests of one conversation go to the instance that already holds its prefix in
/// its KV cache. Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2016): each instance owns
/// many points on a ring of 64-bit hashes; a conversation's key goes to the first instance clockwise from it whose
/// load stays within <c>bound</c> times the average, else on to the next. So an instance joining or leaving moves only
/// the conversations it takes or held, and a popular conversation spills over instead of overloading one instance.
/// A conversation that spilled over, or whose home was full, has its prefix cached where it went: the ring remembers
/// where each recent conversation went last and sends it there again while that instance is within the bound.
/// </summary>
public sealed class AffinityRing
{
    private const int PointsPerInstance = 64;

    /// <summary>Conversations remembered per generation; two generations are kept, so at most twice this many.</summary>
    private const int RememberedPerGeneration = 4096;

    /// <summary>How fast the remembered peak of the model's load fades: by half every this many milliseconds.</summary>
    private const double LoadPeakHalfLifeMs = 1000;

    private double _loadPeak;
    private long _loadPeakTick;
    private Dictionary<ulong, string> _lastServed = [];
    private Dictionary<ulong, string> _lastServedBefore = [];

    private ulong[] _points = [];
    private int[] _owners = [];
    private Dictionary<string, int> _ordinals = new(StringComparer.Ordinal);

    /// <summary>Places <paramref name="agentIds"/> on the ring (every instance of the model, whether it can take work now or not).</summary>
    public void Rebuild(IEnumerable<string> agentIds)
    {
        var ordinals = new Dictionary<string, int>(StringComparer.Ordinal);
        var points = new List<(ulong Point, int Owner)>();
        Span<byte> name = stackalloc byte[512];
        foreach (var agentId in agentIds)
        {
            var ordinal = ordinals.Count;
            ordinals[agentId] = ordinal;
            for (var i = 0; i < PointsPerInstance; i++)
            {
                points.Add((PointOf(agentId, i, name), ordinal));
            }
        }

        points.Sort(static (a, b) => a.Point.CompareTo(b.Point));
        _points = [.. points.Select(p => p.Point)];
        _owners = [.. points.Select(p => p.Owner)];
        _ordinals = ordinals;
    }

    /// <summary>
    /// The instance for <paramref name="key"/> among <paramref name="candidates"/> (those that can take a request now),
    /// keeping each within <paramref name="bound"/> × the average load; null when none is within it.
    /// </summary>
    /// <param name="totalLoad">The <see cref="ModelInstance.Occupancy"/> of every live instance of the model, summed.</param>
    /// <param name="totalCapacity">Capacity of every live instance; an instance's share of the load follows its capacity.</param>
    public ModelInstance? Pick(ulong key, IReadOnlyList<ModelInstance> candidates, double bound, int totalLoad, int totalCapacity)
    {
        if (_points.Length == 0 || candidates.Count == 0)
        {
            return null;
        }

        totalLoad = SmoothedLoad(totalLoad, Environment.TickCount64);

        if (LastServed(key) is { } last)
        {
            foreach (var candidate in candidates)
            {
                if (candidate.AgentId == last && candidate.Occupancy + 1 <= Bound(candidate, bound, totalLoad, totalCapacity))
                {
                    return candidate;
                }
            }
        }

        Span<int> candidateOf = _ordinals.Count <= 256 ? stackalloc int[_ordinals.Count] : new int[_ordinals.Count];
        candidateOf.Fill(-1);
        var remaining = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (_ordinals.TryGetValue(candidates[i].AgentId, out var ordinal))
            {
                candidateOf[ordinal] = i;
                remaining++;
            }
        }

        var start = Array.BinarySearch(_points, key);
        start = start < 0 ? ~start : start;
        for (var step = 0; step < _points.Length && remaining > 0; step++)
        {
            var owner = _owners[(start + step) % _points.Length];
            var index = candidateOf[owner];
            if (index < 0)
            {
                continue;
            }

            // Seen once is enough: the answer for an instance cannot change within one pick.
            candidateOf[owner] = -1;
            remaining--;
            var candidate = candidates[index];
            if (candidate.Occupancy + 1 <= Bound(candidate, bound, totalLoad, totalCapacity))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// The model's load as the bound sees it: now, or the recent peak fading by half every second, whichever is
    /// higher. Calls of a steady load end and start again all the time, and the sum dips between them; a bound that
    /// shrank with every dip would move conversations (and lose their cached prefixes) for nothing.
    /// </summary>
    private int SmoothedLoad(int totalLoad, long nowTick)
    {
        var faded = _loadPeak * Math.Pow(0.5, (nowTick - _loadPeakTick) / LoadPeakHalfLifeMs);
        if (totalLoad >= faded)
        {
            (_loadPeak, _loadPeakTick) = (totalLoad, nowTick);
            return totalLoad;
        }

        return (int)faded;
    }

    /// <summary>Notes that <paramref name="key"/>'s conversation went to <paramref name="agentId"/>, whoever chose it.</summary>
    public void Remember(ulong key, string agentId)
    {
        if (_lastServed.Count >= RememberedPerGeneration && !_lastServed.ContainsKey(key))
        {
            // The oldest generation goes: a conversation quiet for two generations starts again from its ring home.
            (_lastServedBefore, _lastServed) = (_lastServed, []);
        }

        _lastServed[key] = agentId;
    }

    private string? LastServed(ulong key) =>
        _lastServed.TryGetValue(key, out var agentId) || _lastServedBefore.TryGetValue(key, out agentId) ? agentId : null;

    /// <summary>
    /// The most requests <paramref name="instance"/> may hold: its share of the load, with the new request, times the
    /// bound, rounded up. The load counts what engines report waiting, so a conversation whose instance has a long
    /// queue (other clients, a slow engine) moves on rather than wait for its cached prefix.
    /// </summary>
    public static double Bound(ModelInstance instance, double bound, int totalLoad, int totalCapacity) =>
        Math.Ceiling(bound * (totalLoad + 1) * Math.Max(1, instance.Capacity) / Math.Max(1, totalCapacity));

    private static ulong PointOf(string agentId, int replica, Span<byte> buffer)
    {
        var text = $"{agentId}#{replica}";
        var length = Encoding.UTF8.GetMaxByteCount(text.Length) <= buffer.Length
            ? Encoding.UTF8.GetBytes(text, buffer)
            : -1;
        return length >= 0 ? XxHash3.HashToUInt64(buffer[..length]) : XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(text));
    }
}
