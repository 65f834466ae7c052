namespace Synapse.Grains.Usage;

/// <summary>A budget's calendar period, in UTC (weeks start on Monday).</summary>
[GenerateSerializer, Alias("synapse.UsagePeriod")]
public enum UsagePeriod
{
    Day,

    Week,

    Month,
}
