using Synapse.Protocol;

namespace Synapse.Tests.Unit.Protocol;

/// <summary>The one backoff of the product: doubling from a first delay up to a ceiling, spread by jitter.</summary>
[Trait("Category", "Unit")]
public sealed class BackoffTests
{
    private static readonly Backoff Exact = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), Jitter: 0);

    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 200)]
    [InlineData(2, 400)]
    [InlineData(5, 3200)]
    [InlineData(6, 5000)]
    [InlineData(30, 5000)]
    [InlineData(int.MaxValue, 5000)]
    [InlineData(-1, 100)]
    [InlineData(int.MinValue, 100)]
    public void Delay_WithoutJitter_DoublesFromTheFirstDelayUpToTheCeiling(int attempt, int expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), Exact.Delay(attempt));
    }

    [Fact]
    public void Delay_WithJitter_StaysWithinTheSpreadAroundTheDelayAndNeverPassesTheCeilingByMore()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1), Jitter: 0.2);
        var random = new Random(1234);

        for (var attempt = 0; attempt < 12; attempt++)
        {
            var nominal = Math.Min(50 * Math.Pow(2, attempt), 1000);
            for (var i = 0; i < 200; i++)
            {
                var delay = backoff.Delay(attempt, random).TotalMilliseconds;
                Assert.InRange(delay, nominal * 0.8, nominal * 1.2);
            }
        }
    }

    [Fact]
    public void Delay_WithJitter_SpreadsWaitersApartAndAveragesTheNominalDelay()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), Jitter: 0.2);
        var random = new Random(42);

        var delays = Enumerable.Range(0, 2000).Select(_ => backoff.Delay(3, random).TotalMilliseconds).ToArray();

        // 800 ms nominal: many different values, over most of the 640-960 ms range, centred on 800.
        Assert.True(delays.Distinct().Count() > 1000, "waiters retrying together must not knock at the same moment");
        Assert.True(delays.Min() < 800 * 0.85 && delays.Max() > 800 * 1.15, $"spread {delays.Min():0}-{delays.Max():0} ms");
        Assert.InRange(delays.Average(), 800 * 0.98, 800 * 1.02);
    }

    [Fact]
    public void Delay_GrowsWithEachAttemptEvenThroughTheJitter()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1), Jitter: 0.2);
        var random = new Random(7);

        // With 20 % jitter, attempt n+1 (nominal x2) is always longer than attempt n: 1.6 > 1.2.
        for (var attempt = 0; attempt < 12; attempt++)
        {
            Assert.True(backoff.Delay(attempt + 1, random) > backoff.Delay(attempt, random));
        }
    }

    [Fact]
    public void Delay_WithJitterOverOne_IsNeverNegative()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), Jitter: 3);
        var random = new Random(3);

        Assert.All(Enumerable.Range(0, 500), _ => Assert.True(backoff.Delay(0, random) >= TimeSpan.Zero));
    }

    [Fact]
    public async Task WaitAsync_Uncancelled_WaitsAndSaysSo()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1));

        Assert.True(await backoff.WaitAsync(0, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WaitAsync_Cancelled_ReturnsFalseInsteadOfThrowing()
    {
        var backoff = new Backoff(TimeSpan.FromHours(1), TimeSpan.FromHours(1));
        using var cancel = new CancellationTokenSource();

        var wait = backoff.WaitAsync(0, cancel.Token);
        await cancel.CancelAsync();

        Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
