namespace Synapse.Silo.Tenancy;

/// <summary><c>budget:</c> of a group or key: tokens (prompt and completion) per calendar period in UTC.</summary>
public sealed record TokenBudget(long Tokens, BudgetPeriod Period)
{
    /// <summary>Start of the period that holds <paramref name="now"/>.</summary>
    /// <summary>The period as the usage grains count it.</summary>
    public Synapse.Grains.Usage.UsagePeriod UsagePeriod => Period switch
    {
        BudgetPeriod.Day => Synapse.Grains.Usage.UsagePeriod.Day,
        BudgetPeriod.Week => Synapse.Grains.Usage.UsagePeriod.Week,
        _ => Synapse.Grains.Usage.UsagePeriod.Month,
    };

    public DateTimeOffset PeriodStart(DateTimeOffset now) => Synapse.Grains.Usage.UsagePeriods.Start(UsagePeriod, now);

    public DateTimeOffset PeriodEnd(DateTimeOffset now) => Synapse.Grains.Usage.UsagePeriods.End(UsagePeriod, now);
}
