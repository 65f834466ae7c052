using Synapse.Grains.Limits;

namespace Synapse.Tests.Unit.Grains.Limits;

[Trait("Category", "Unit")]
public sealed class TokenBucketTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    [Fact]
    public void Bucket_AdmitsItsBurstAtOnce_ThenTheRate()
    {
        var bucket = new TokenBucket(600, T0);

        Assert.Equal(15, bucket.Take(100, T0));
        Assert.Equal(0, bucket.Take(1, T0));
        Assert.Equal(1, bucket.Take(100, T0 + TimeSpan.FromMilliseconds(100).Ticks));
        Assert.Equal(10, bucket.Take(100, T0 + TimeSpan.FromMilliseconds(1100).Ticks));
    }

    [Fact]
    public void Bucket_OverAMinuteOfDemand_AdmitsTheLimitPlusItsBurst()
    {
        var bucket = new TokenBucket(600, T0);
        var admitted = 0;
        for (var ms = 0; ms <= 60_000; ms += 30)
        {
            admitted += bucket.Take(1, T0 + TimeSpan.FromMilliseconds(ms).Ticks);
        }

        Assert.InRange(admitted, 600, 616);
    }

    [Fact]
    public void Spending_BelowZero_BlocksUntilRefilled_AndTheWindowSaysHowLong()
    {
        var bucket = new TokenBucket(600, T0);

        bucket.Spend(45, T0);
        var window = bucket.Window(T0);

        Assert.Equal(0, window.Remaining);
        Assert.Equal(3.1, window.RetryAfter.TotalSeconds, 3);
        Assert.Equal(4.5, window.ResetIn.TotalSeconds, 3);
        Assert.Equal(0, bucket.Take(1, T0 + TimeSpan.FromSeconds(3).Ticks));
        Assert.Equal(1, bucket.Take(1, T0 + TimeSpan.FromSeconds(3.2).Ticks));
    }

    [Fact]
    public void Returned_NeverFillsPastCapacity_AndAResizeKeepsWhatWasSpent()
    {
        var bucket = new TokenBucket(60, T0);
        bucket.Put(10, T0);
        Assert.Equal(1.5, bucket.Window(T0).Remaining);

        bucket.Take(1, T0);
        bucket.Resize(6000);
        Assert.Equal(0.5, bucket.Window(T0).Remaining);
        Assert.Equal(150, bucket.Capacity);
    }
}
