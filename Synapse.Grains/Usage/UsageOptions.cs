namespace Synapse.Grains.Usage;

/// <summary>How usage is gathered (section <c>Synapse:Usage</c>).</summary>
public sealed class UsageOptions
{
    public const string SectionName = "Synapse:Usage";

    /// <summary>The grain storage usage is kept in: Redis with <c>--redis</c>, memory otherwise.</summary>
    public const string StorageName = "usage";

    /// <summary>
    /// The keyed <see cref="TimeProvider"/> that says which minute, day and budget period it is: the system clock,
    /// replaced in tests to cross a period boundary without moving Orleans' own clock.
    /// </summary>
    public const string ClockKey = "synapse.usage.clock";

    /// <summary>How often each silo sends what it counted to the usage grains.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a usage grain with new counts writes them to storage: what a crash can lose at most (plus one flush).</summary>
    public TimeSpan WriteInterval { get; set; } = TimeSpan.FromSeconds(5);
}
