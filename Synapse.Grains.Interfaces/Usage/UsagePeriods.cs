namespace Synapse.Grains.Usage;

/// <summary>Where calendar periods start and end, in UTC: the same on every silo and in every grain.</summary>
public static class UsagePeriods
{
    public static DateTimeOffset Start(UsagePeriod period, DateTimeOffset now)
    {
        var day = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return period switch
        {
            UsagePeriod.Day => day,
            UsagePeriod.Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
            _ => new DateTimeOffset(day.Year, day.Month, 1, 0, 0, 0, TimeSpan.Zero),
        };
    }

    public static DateTimeOffset End(UsagePeriod period, DateTimeOffset now)
    {
        var start = Start(period, now);
        return period switch
        {
            UsagePeriod.Day => start.AddDays(1),
            UsagePeriod.Week => start.AddDays(7),
            _ => start.AddMonths(1),
        };
    }

    /// <summary>The start of the minute <paramref name="now"/> falls in.</summary>
    public static DateTimeOffset Minute(DateTimeOffset now) => new(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
}
