using Synapse.Client.Forwarding;

namespace Synapse.Tests.Unit.Client.Forwarding;

/// <summary>The agent sends a request's response bytes only while the gateway has room for them.</summary>
[Trait("Category", "Unit")]
public sealed class CreditWindowTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task WaitAsync_WithCredit_AnswersAtOnceWithAtMostWhatIsAvailable()
    {
        var window = new CreditWindow(1000);

        Assert.Equal(400, await window.WaitAsync(400, CancellationToken.None));
        Assert.Equal(1000, await window.WaitAsync(4096, CancellationToken.None));
    }

    [Fact]
    public async Task WaitAsync_AfterConsumingTheWindow_WaitsForAGrant()
    {
        var window = new CreditWindow(1000);
        window.Consume(600);
        Assert.Equal(400, await window.WaitAsync(4096, CancellationToken.None));
        window.Consume(400);

        var wait = window.WaitAsync(4096, CancellationToken.None).AsTask();
        Assert.False(wait.IsCompleted);

        window.Grant(250);
        Assert.Equal(250, await wait.WaitAsync(Deadline));
    }

    [Fact]
    public async Task WaitAsync_WhenOverdrawn_WaitsUntilGrantsCoverTheDebt()
    {
        // A chunk bigger than the credit left may be sent whole; the debt is paid back before the next one.
        var window = new CreditWindow(100);
        window.Consume(300);

        var wait = window.WaitAsync(4096, CancellationToken.None).AsTask();
        window.Grant(150);
        Assert.False(wait.IsCompleted);

        window.Grant(100);
        Assert.Equal(50, await wait.WaitAsync(Deadline));
    }

    [Fact]
    public async Task WaitAsync_CallerCancels_ThrowsAndALaterGrantStillServesTheNextWait()
    {
        var window = new CreditWindow(0);
        using var cancel = new CancellationTokenSource();

        var cancelled = window.WaitAsync(100, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Deadline));

        var next = window.WaitAsync(100, CancellationToken.None).AsTask();
        window.Grant(70);
        Assert.Equal(70, await next.WaitAsync(Deadline));
    }

    [Fact]
    public async Task Grant_WhileManyChunksWait_WakesThemAll()
    {
        var window = new CreditWindow(0);
        var waits = Enumerable.Range(0, 4).Select(_ => window.WaitAsync(10, CancellationToken.None).AsTask()).ToArray();

        window.Grant(1000);

        var granted = await Task.WhenAll(waits).WaitAsync(Deadline);
        Assert.Equal([10, 10, 10, 10], granted);
    }

    [Fact]
    public async Task ConsumeAndGrant_FromManyThreads_KeepAnExactBalance()
    {
        var window = new CreditWindow(0);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                window.Grant(3);
                window.Consume(2);
            }
        })));

        Assert.Equal(80_000, await window.WaitAsync(int.MaxValue, CancellationToken.None));
    }
}
