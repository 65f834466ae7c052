using System.Diagnostics.CodeAnalysis;
using Synapse.Grains.Agents;
using Synapse.Protocol.Messages;

namespace Synapse.Silo.Agents;

/// <summary>
/// The latest engine signals one agent socket sent (queue, running, KV cache per model), for balancing, the status
/// page and metrics. Each <c>EngineSignals</c> frame replaces the previous one whole.
/// </summary>
/// <remarks>
/// Staleness is decided by the agent, which reads its engine every interval and knows when its last good reading
/// was: a reading older than 3 intervals is dropped there and that change arrives here as a frame without the
/// model. The agent sends only changes, so a steady load sends nothing and its last values stay current; they go
/// with the socket. <see cref="Age"/> says how long ago the values last changed, should a policy want to discount.
/// </remarks>
internal sealed class EngineSignalState
{
    private volatile Snapshot _latest = Snapshot.Empty;

    /// <summary>True when at least one model has a signal.</summary>
    public bool HasSignals => _latest.Loads.Count > 0;

    /// <summary>How often the agent reads its engine (0 before the first frame).</summary>
    public int IntervalMs => _latest.IntervalMs;

    /// <summary><c>vllm</c>, <c>sglang</c> or <c>llama.cpp</c>, once known.</summary>
    public string? Engine => _latest.Engine;

    /// <summary>Every model's current signal.</summary>
    public IReadOnlyCollection<EngineLoad> All => _latest.Loads.Values;

    /// <summary><see cref="Environment.TickCount64"/> when the last frame arrived (<see cref="long.MinValue"/> before any).</summary>
    public long ReceivedTick => _latest.ReceivedTick;

    /// <summary>The engine's current load for <paramref name="model"/>, when the agent has a fresh reading of it.</summary>
    public bool TryGet(string model, [NotNullWhen(true)] out EngineLoad? load) =>
        _latest.Loads.TryGetValue(model, out load);

    /// <summary>Time since the values last changed; <see cref="TimeSpan.MaxValue"/> before any frame.</summary>
    public TimeSpan Age(long nowTick) =>
        _latest.ReceivedTick == long.MinValue ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(Math.Max(0, nowTick - _latest.ReceivedTick));

    /// <summary>Takes a frame that <see cref="EngineSignalsValidator"/> accepted; returns the models whose load changed.</summary>
    public List<string> Update(EngineSignalsMessage message, long nowTick, DateTimeOffset now)
    {
        var loads = new Dictionary<string, EngineLoad>(message.Models.Count, StringComparer.Ordinal);
        foreach (var model in message.Models)
        {
            loads[model.Model] = new EngineLoad
            {
                Model = model.Model,
                Running = model.Running,
                Waiting = model.Waiting,
                KvUsage = model.KvUsage,
                Capacity = model.Capacity,
                IntervalMs = message.IntervalMs,
                ReceivedAt = now,
                Engine = message.Engine,
            };
        }

        var previous = _latest.Loads;
        _latest = new Snapshot(loads, message.IntervalMs, message.Engine, nowTick);
        var changed = new List<string>();
        foreach (var (model, load) in loads)
        {
            if (!previous.TryGetValue(model, out var before) || !SameLoad(before, load))
            {
                changed.Add(model);
            }
        }

        foreach (var model in previous.Keys)
        {
            if (!loads.ContainsKey(model))
            {
                changed.Add(model);
            }
        }

        return changed;
    }

    private static bool SameLoad(EngineLoad a, EngineLoad b) =>
        a.Running == b.Running && a.Waiting == b.Waiting && a.KvUsage == b.KvUsage && a.Capacity == b.Capacity;

    private sealed record Snapshot(Dictionary<string, EngineLoad> Loads, int IntervalMs, string? Engine, long ReceivedTick)
    {
        public static readonly Snapshot Empty = new(new Dictionary<string, EngineLoad>(StringComparer.Ordinal), 0, null, long.MinValue);
    }
}
