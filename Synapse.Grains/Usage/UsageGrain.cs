using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Synapse.Grains.Usage;

/// <inheritdoc cref="IUsageGrain"/>
internal sealed class UsageGrain(
    [PersistentState("usage", UsageOptions.StorageName)] IPersistentState<UsageState> storage,
    IOptions<UsageOptions> options,
    [FromKeyedServices(UsageOptions.ClockKey)] TimeProvider time) : Grain, IUsageGrain
{
    private bool _dirty;

    private UsageState State => storage.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var interval = options.Value.WriteInterval;
        this.RegisterGrainTimer(WriteAsync, new GrainTimerCreationOptions { DueTime = interval, Period = interval, Interleave = false, KeepAlive = false });
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => await WriteAsync(cancellationToken);

    public Task Add(UsageBatch batch, UsagePeriod? period)
    {
        var now = time.GetUtcNow();
        Roll(now, period);
        var total = batch.Total;
        foreach (var (model, totals) in batch.ByModel)
        {
            State.DayByModel[model] = State.DayByModel.TryGetValue(model, out var day) ? day.Plus(totals) : totals;
        }

        State.MinuteTotals = State.MinuteTotals.Plus(total);
        if (State.Period is not null)
        {
            State.PeriodTotals = State.PeriodTotals.Plus(total);
        }

        _dirty = true;
        return Task.CompletedTask;
    }

    public Task<UsageReport> Get(UsagePeriod? period)
    {
        Roll(time.GetUtcNow(), period);
        return Task.FromResult(new UsageReport
        {
            Minute = State.MinuteTotals,
            Day = State.DayByModel.Values.Aggregate(UsageTotals.Zero, (sum, t) => sum.Plus(t)),
            DayByModel = new Dictionary<string, UsageTotals>(State.DayByModel, StringComparer.Ordinal),
            Period = State.Period,
            PeriodStart = State.Period is null ? null : State.PeriodStart,
            PeriodTotals = State.PeriodTotals,
        });
    }

    /// <summary>Starts a new minute, day or budget period when the clock has passed into one (or the period changed).</summary>
    private void Roll(DateTimeOffset now, UsagePeriod? period)
    {
        var minute = UsagePeriods.Minute(now);
        if (State.Minute != minute)
        {
            (State.Minute, State.MinuteTotals, _dirty) = (minute, UsageTotals.Zero, true);
        }

        var day = UsagePeriods.Start(UsagePeriod.Day, now);
        if (State.Day != day)
        {
            State.Day = day;
            State.DayByModel.Clear();
            _dirty = true;
        }

        var periodStart = period is { } p ? UsagePeriods.Start(p, now) : default;
        if (State.Period != period || State.PeriodStart != periodStart)
        {
            // A budget's period (or the budget itself) changed in the file, or the period rolled over: count afresh,
            // except when only the period kind changed within the same start (nothing to lose then).
            var sameSpan = State.Period is not null && period is not null && State.PeriodStart == periodStart;
            (State.Period, State.PeriodStart) = (period, periodStart);
            if (!sameSpan)
            {
                State.PeriodTotals = UsageTotals.Zero;
            }

            _dirty = true;
        }
    }

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        if (!_dirty)
        {
            return;
        }

        _dirty = false;
        try
        {
            await storage.WriteStateAsync(cancellationToken);
        }
        catch
        {
            // Counted again at the next write; the counts stay in memory meanwhile.
            _dirty = true;
            throw;
        }
    }
}
