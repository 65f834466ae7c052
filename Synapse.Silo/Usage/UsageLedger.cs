using System.Collections.Concurrent;
using Synapse.Grains.Usage;
using Synapse.Silo.Tenancy;

namespace Synapse.Silo.Usage;

/// <summary>
/// What this silo counted since its last flush, per API key and per group, by model: every finished call adds to it
/// without leaving the silo, and <see cref="UsageFlusher"/> hands it to the usage grains in batches.
/// </summary>
public sealed class UsageLedger
{
    private ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    /// <summary>Counts one finished call; tokens are negative when the upstream reported no usage.</summary>
    public void Record(CallerIdentity caller, string model, long inputTokens, long outputTokens)
    {
        var totals = inputTokens < 0 && outputTokens < 0
            ? new UsageTotals { Requests = 1, Unmetered = 1 }
            : new UsageTotals { Requests = 1, InputTokens = Math.Max(0, inputTokens), OutputTokens = Math.Max(0, outputTokens) };
        Add(caller, model, totals);
    }

    /// <summary>Counts a call refused before it was forwarded: <c>rate_limited</c> or <c>quota_exceeded</c>.</summary>
    public void Refused(CallerIdentity caller, string model, string reason) =>
        Add(caller, model, reason == "quota_exceeded" ? new UsageTotals { QuotaExceeded = 1 } : new UsageTotals { RateLimited = 1 });

    private void Add(CallerIdentity caller, string model, UsageTotals totals)
    {
        Add(UsageKey.ForKey(caller.KeyName), model, totals, caller.Budget?.UsagePeriod);
        if (caller.Group is { } group)
        {
            Add(UsageKey.ForGroup(group.Name), model, totals, group.Budget?.UsagePeriod);
        }
    }

    /// <summary>Tokens counted here and not yet flushed, for a usage grain key (budgets add them to the grain's count).</summary>
    public long PendingTokens(string usageKey) => _pending.TryGetValue(usageKey, out var pending) ? pending.Tokens : 0;

    /// <summary>Takes everything counted so far; calls ending meanwhile go to the next batch.</summary>
    internal IReadOnlyDictionary<string, Pending> Take() => Interlocked.Exchange(ref _pending, new(StringComparer.Ordinal));

    /// <summary>Puts back a batch a grain could not take, to go with the next flush.</summary>
    internal void Return(string usageKey, Pending pending)
    {
        foreach (var (model, totals) in pending.ToBatch(default).ByModel)
        {
            Add(usageKey, model, totals, pending.Period);
        }
    }

    private void Add(string usageKey, string model, UsageTotals totals, UsagePeriod? period)
    {
        var pending = _pending.GetOrAdd(usageKey, static _ => new Pending());
        pending.Add(model, totals, period);
    }

    internal sealed class Pending
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, UsageTotals> _byModel = new(StringComparer.Ordinal);

        public UsagePeriod? Period { get; private set; }

        public long Tokens { get; private set; }

        public void Add(string model, UsageTotals totals, UsagePeriod? period)
        {
            lock (_lock)
            {
                _byModel[model] = _byModel.TryGetValue(model, out var sum) ? sum.Plus(totals) : totals;
                Period = period;
                Tokens += totals.Tokens;
            }
        }

        public UsageBatch ToBatch(DateTimeOffset at)
        {
            lock (_lock)
            {
                return new UsageBatch { At = at, ByModel = new Dictionary<string, UsageTotals>(_byModel, StringComparer.Ordinal) };
            }
        }
    }
}
