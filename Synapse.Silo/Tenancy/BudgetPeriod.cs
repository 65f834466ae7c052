namespace Synapse.Silo.Tenancy;

/// <summary>A budget's calendar period, in UTC.</summary>
public enum BudgetPeriod
{
    Day,

    /// <summary>ISO weeks: Monday 00:00 UTC to the next Monday.</summary>
    Week,

    Month,
}
