using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Synapse.Grains.Usage;
using Synapse.Silo.Tenancy;

namespace Synapse.Silo.Usage;

/// <summary>
/// Refuses callers whose key's or group's token budget is spent. What a budget has spent comes from its usage grain at
/// most once per <see cref="UsageOptions.FlushInterval"/> per silo, plus what this silo counted since its last flush:
/// the common path never leaves the silo, and a budget is overrun by at most the calls in flight and about a
/// second of the other silos' traffic.
/// </summary>
internal sealed class BudgetGate(IGrainFactory grains, UsageLedger ledger, IOptions<UsageOptions> options, [FromKeyedServices(UsageOptions.ClockKey)] TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<Spent>>> _spent = new(StringComparer.Ordinal);

    public async ValueTask<BudgetVerdict> CheckAsync(CallerIdentity caller, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (caller.Budget is { } keyBudget)
        {
            var verdict = await CheckAsync(UsageKey.ForKey(caller.KeyName), caller.KeyName, keyBudget, now, cancellationToken);
            if (!verdict.Allowed)
            {
                return verdict;
            }
        }

        if (caller.Group is { Budget: { } groupBudget } group)
        {
            return await CheckAsync(UsageKey.ForGroup(group.Name), $"group {group.Name}", groupBudget, now, cancellationToken);
        }

        return BudgetVerdict.Allow;
    }

    private async ValueTask<BudgetVerdict> CheckAsync(string usageKey, string owner, TokenBudget budget, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var periodStart = budget.PeriodStart(now);
        long spent;
        try
        {
            spent = await SpentAsync(usageKey, budget, periodStart, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The count cannot be read (its grain's silo just died): serve, as the other silos' counts still add up;
            // the next call asks again.
            spent = 0;
        }

        var total = spent + ledger.PendingTokens(usageKey);
        return total < budget.Tokens ? BudgetVerdict.Allow : new BudgetVerdict(false, owner, budget, budget.PeriodEnd(now));
    }

    private async ValueTask<long> SpentAsync(string usageKey, TokenBudget budget, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        var entry = _spent.GetOrAdd(usageKey, key => Fetch(key, budget, periodStart));
        var known = entry.IsValueCreated && entry.Value.IsCompletedSuccessfully ? entry.Value.Result : null;
        var stale = known is not null && (known.PeriodStart != periodStart || Environment.TickCount64 - known.FetchedAt > options.Value.FlushInterval.TotalMilliseconds);
        var faulted = entry.IsValueCreated && entry.Value.IsFaulted;
        if (stale || faulted)
        {
            var fresh = Fetch(usageKey, budget, periodStart);
            entry = _spent.TryUpdate(usageKey, fresh, entry) ? fresh : _spent[usageKey];
            _ = entry.Value;
        }

        if (known is not null && known.PeriodStart == periodStart && !faulted)
        {
            // The cached count answers now; the refresh (if one started) lands for the next call.
            return known.Tokens;
        }

        return (await entry.Value.WaitAsync(cancellationToken)).Tokens;
    }

    private Lazy<Task<Spent>> Fetch(string usageKey, TokenBudget budget, DateTimeOffset periodStart) => new(async () =>
    {
        var report = await grains.GetGrain<IUsageGrain>(usageKey).Get(budget.UsagePeriod);
        var tokens = report.PeriodStart == periodStart ? report.PeriodTotals.Tokens : 0;
        return new Spent(tokens, periodStart, Environment.TickCount64);
    });

    private sealed record Spent(long Tokens, DateTimeOffset PeriodStart, long FetchedAt);
}
