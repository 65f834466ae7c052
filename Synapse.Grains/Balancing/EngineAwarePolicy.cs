using Synapse.Grains.Models;

namespace Synapse.Grains.Balancing;

/// <summary>
/// Sends a request where its engine will start it soonest, by what the engines themselves report (read next to them
/// by the agents every half second): an instance whose engine has free room (nothing waiting) before one with a
/// queue, and among queues the one that drains first — the queue length over the rate the engine has been finishing
/// requests, so a queue of 4 on an engine three times faster beats a queue of 2. Ties (every engine has room, or
/// the same wait) go to the less loaded by in-flight count. Without any engine signal among the candidates it is
/// <see cref="PowerOfTwoChoicesPolicy"/>. Instances whose KV cache is nearly full are already set aside by the
/// model grain (<see cref="ModelGrainOptions.KvUsageThreshold"/>).
/// </summary>
public sealed class EngineAwarePolicy : ILoadBalancingPolicy
{
    /// <summary>Waits within this fraction of each other are the same: the estimates are not more precise.</summary>
    private const double WaitTolerance = 0.1;

    private readonly PowerOfTwoChoicesPolicy _withoutSignals = new();

    public string Name => LoadBalancingPolicies.EngineAware;

    public ModelInstance Pick(IReadOnlyList<ModelInstance> candidates, LoadBalancingState state)
    {
        if (candidates.Count == 1 || !AnySignals(candidates))
        {
            return _withoutSignals.Pick(candidates, state);
        }

        var now = Environment.TickCount64;
        var drainMs = TypicalCompletionIntervalMs(candidates, now);
        ModelInstance best = candidates[0];
        var bestWait = ExpectedWait(best, drainMs, now);
        var ties = 1;
        for (var i = 1; i < candidates.Count; i++)
        {
            var candidate = candidates[i];
            var wait = ExpectedWait(candidate, drainMs, now);
            var comparison = CompareWaits(wait, bestWait);
            if (comparison == 0 && wait == 0 && bestWait == 0)
            {
                // Room on both: the fewer in flight here. Between two queues that start a request as soon, in-flight
                // counts would favour the slower engine (it holds fewer), so those ties go at random.
                comparison = ModelInstance.CompareLoad(candidate, best);
            }

            if (comparison < 0)
            {
                (best, bestWait, ties) = (candidate, wait, 1);
            }
            else if (comparison == 0 && state.Random.Next(++ties) == 0)
            {
                (best, bestWait) = (candidate, wait);
            }
        }

        return best;
    }

    /// <summary>
    /// How long a request sent now would wait in the instance's engine before it starts, in milliseconds: 0 with room
    /// free; otherwise the requests ahead of it, plus itself, times the time between two completions there.
    /// </summary>
    public static double ExpectedWait(ModelInstance instance, double? typicalDrainMs, long nowTick)
    {
        var waiting = instance.Engine.Waiting;
        if (waiting == 0)
        {
            return 0;
        }

        // Nothing known of any engine's pace: a second per request per slot, so queues compare relative to engine size.
        var drainMs = instance.Engine.CompletionIntervalMs(nowTick) ?? typicalDrainMs ?? 1000.0 / instance.Engine.Slots;
        return (waiting + 1) * drainMs;
    }

    /// <summary>
    /// True when <paramref name="instance"/>'s engine would start a request later than the soonest of
    /// <paramref name="candidates"/> by more than the policy calls equal (10%; at all, when one has room): prefix
    /// affinity then gives way, since a cached prefix saves a prefill, never a place in a longer or slower queue.
    /// False without signals.
    /// </summary>
    public static bool StartsLater(ModelInstance instance, IReadOnlyList<ModelInstance> candidates)
    {
        if (!AnySignals(candidates))
        {
            return false;
        }

        var now = Environment.TickCount64;
        var drainMs = TypicalCompletionIntervalMs(candidates, now);
        var soonest = double.MaxValue;
        foreach (var candidate in candidates)
        {
            soonest = Math.Min(soonest, ExpectedWait(candidate, drainMs, now));
        }

        return CompareWaits(ExpectedWait(instance, drainMs, now), soonest) > 0;
    }

    private static int CompareWaits(double a, double b)
    {
        if (a == b)
        {
            return 0;
        }

        return Math.Abs(a - b) <= WaitTolerance * Math.Max(a, b) ? 0 : a.CompareTo(b);
    }

    private static bool AnySignals(IReadOnlyList<ModelInstance> candidates)
    {
        foreach (var candidate in candidates)
        {
            if (candidate.Engine.Load is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>For an engine whose pace is not known yet: the mean of those known; null when none is.</summary>
    private static double? TypicalCompletionIntervalMs(IReadOnlyList<ModelInstance> candidates, long nowTick)
    {
        double sum = 0;
        var known = 0;
        foreach (var candidate in candidates)
        {
            if (candidate.Engine.CompletionIntervalMs(nowTick) is { } interval)
            {
                sum += interval;
                known++;
            }
        }

        return known > 0 ? sum / known : null;
    }
}
