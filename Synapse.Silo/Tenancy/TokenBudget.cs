namespace Synapse.Silo.Tenancy;

/// <summary><c>budget:</c> of a group or key: tokens (prompt and completion) per calendar period in UTC.</summary>
public sealed record TokenBudget(long Tokens, BudgetPeriod Period)
{
    /// <summary>Start of the period that holds <paramref name="now"/>.</summary>
    public DateTimeOffset PeriodStart(DateTimeOffset now)
    {
        var day = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return Period switch
        {
            BudgetPeriod.Day => day,
            BudgetPeriod.Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
            _ => new DateTimeOffset(day.Year, day.Month, 1, 0, 0, 0, TimeSpan.Zero),
        };
    }

    /// <summary>When the period holding <paramref name="now"/> ends and the budget is whole again.</summary>
    public DateTimeOffset PeriodEnd(DateTimeOffset now)
    {
        var start = PeriodStart(now);
        return Period switch
        {
            BudgetPeriod.Day => start.AddDays(1),
            BudgetPeriod.Week => start.AddDays(7),
            _ => start.AddMonths(1),
        };
    }
}
