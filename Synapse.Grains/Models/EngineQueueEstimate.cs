using Synapse.Grains.Agents;

namespace Synapse.Grains.Models;

/// <summary>
/// What an instance's engine is doing now, as far as its model grain can tell: the last load the agent read from the
/// engine (at most one reading interval old), corrected by the requests this grain sent there and saw end since, and
/// how fast the engine has been finishing requests. Lets a policy ask how long a new request would wait there.
/// </summary>
/// <remarks>
/// The agent sends a reading only when a value changed, so between readings the counts sent and ended since keep
/// the estimate current: without them every request of the half second after a reading would go to the instance
/// that reported an empty queue, and fill it.
/// </remarks>
public sealed class EngineQueueEstimate
{
    private const int CompletionSamples = 16;

    /// <summary>Completions older than this say nothing about how fast the engine is now.</summary>
    private const long CompletionMemoryMs = 30_000;

    private readonly long[] _completionTicks = new long[CompletionSamples];
    private long _completions;
    private int _startedSince;
    private int _endedSince;
    private int _slotsSeen;
    private DateTimeOffset _readingAt = DateTimeOffset.MinValue;

    /// <summary>The engine's last reading; null when the agent has none (no engine signals, or they stopped).</summary>
    public EngineLoad? Load { get; private set; }

    /// <summary>Requests the engine generates at once: what it reports (llama.cpp's slots), else the most seen running.</summary>
    public int Slots => Load?.Capacity is > 0 and var capacity ? capacity : Math.Max(1, _slotsSeen);

    /// <summary>Requests the engine holds now, running or waiting: its last count, plus those sent since, less those ended.</summary>
    public int Outstanding => Load is null ? 0 : Math.Max(0, Load.Running + (Load.Waiting ?? 0) + _startedSince - _endedSince);

    /// <summary>Requests waiting in the engine's own queue now (<see cref="Outstanding"/> beyond its slots).</summary>
    public int Waiting => Math.Max(0, Outstanding - Slots);

    /// <summary>Fraction of the KV cache in use, when the engine says.</summary>
    public double? KvUsage => Load?.KvUsage;

    /// <summary>
    /// Milliseconds between two completions while the engine was busy (how fast its queue drains); null until a few
    /// requests ended here lately.
    /// </summary>
    public double? CompletionIntervalMs(long nowTick)
    {
        var count = (int)Math.Min(_completions, CompletionSamples);
        if (count < 4)
        {
            return null;
        }

        var newest = _completionTicks[(_completions - 1) % CompletionSamples];
        var oldest = _completionTicks[(_completions - count) % CompletionSamples];
        if (nowTick - newest > CompletionMemoryMs)
        {
            return null;
        }

        return Math.Max(1.0, (double)(newest - oldest) / (count - 1));
    }

    /// <summary>Takes a reading received at <paramref name="at"/>; an older one (a late registration) is ignored.</summary>
    internal bool Update(EngineLoad? load, DateTimeOffset at)
    {
        if (at <= _readingAt)
        {
            return false;
        }

        _readingAt = at;
        Load = load;
        _startedSince = 0;
        _endedSince = 0;
        if (load is not null)
        {
            _slotsSeen = Math.Max(_slotsSeen, load.Running);
        }

        return true;
    }

    internal void Started() => _startedSince++;

    internal void Ended(long nowTick)
    {
        _endedSince++;
        _completionTicks[_completions++ % CompletionSamples] = nowTick;
    }
}
