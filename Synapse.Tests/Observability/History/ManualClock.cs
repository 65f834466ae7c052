namespace Synapse.Tests.Observability.History;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(long unixSecond) : TimeProvider
{
    public long Second { get; set; } = unixSecond;

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeSeconds(Second).AddMilliseconds(400);
}
