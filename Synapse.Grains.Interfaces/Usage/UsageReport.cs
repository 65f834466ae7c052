namespace Synapse.Grains.Usage;

/// <summary>A key's or group's usage, cluster-wide: this minute, today (UTC), and the budget period when there is one.</summary>
[GenerateSerializer, Immutable, Alias("synapse.UsageReport")]
public sealed record UsageReport
{
    [Id(0)]
    public UsageTotals Minute { get; init; } = UsageTotals.Zero;

    [Id(1)]
    public UsageTotals Day { get; init; } = UsageTotals.Zero;

    [Id(2)]
    public IReadOnlyDictionary<string, UsageTotals> DayByModel { get; init; } = new Dictionary<string, UsageTotals>();

    [Id(3)]
    public UsagePeriod? Period { get; init; }

    [Id(4)]
    public DateTimeOffset? PeriodStart { get; init; }

    [Id(5)]
    public UsageTotals PeriodTotals { get; init; } = UsageTotals.Zero;
}
