namespace Synapse.Grains.Usage;

/// <summary>What a usage grain keeps in storage: today's totals by model, this minute's and the budget period's.</summary>
[GenerateSerializer, Alias("synapse.UsageState")]
public sealed class UsageState
{
    [Id(0)]
    public DateTimeOffset Day { get; set; }

    [Id(1)]
    public Dictionary<string, UsageTotals> DayByModel { get; set; } = new(StringComparer.Ordinal);

    [Id(2)]
    public DateTimeOffset Minute { get; set; }

    [Id(3)]
    public UsageTotals MinuteTotals { get; set; } = UsageTotals.Zero;

    [Id(4)]
    public UsagePeriod? Period { get; set; }

    [Id(5)]
    public DateTimeOffset PeriodStart { get; set; }

    [Id(6)]
    public UsageTotals PeriodTotals { get; set; } = UsageTotals.Zero;
}
