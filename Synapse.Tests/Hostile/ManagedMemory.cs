namespace Synapse.Tests.Hostile;

/// <summary>
/// "Memory does not grow": the gateway lives in this process, so its managed heap is this process's. The abuse runs
/// to warm up first (the shared array pool and Kestrel's block pool fill to their high-water marks, code is jitted),
/// then the heap after a forced collection is the baseline; after more rounds it must stay within a bound of it.
/// </summary>
internal static class ManagedMemory
{
    public const long DefaultSlackBytes = 16L * 1024 * 1024;

    public static long Measure()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }

    public static async Task AssertBoundedAsync(Func<int, Task> abuse, int rounds, long slackBytes = DefaultSlackBytes, int warmups = 1)
    {
        for (var round = -warmups; round < 0; round++)
        {
            await abuse(round);
        }

        var baseline = Measure();
        for (var round = 0; round < rounds; round++)
        {
            await abuse(round);
        }

        var after = Measure();
        Assert.True(
            after - baseline < slackBytes,
            $"managed memory grew by {(after - baseline) / (1024.0 * 1024):0.0} MiB over {rounds} rounds (baseline {baseline / (1024.0 * 1024):0.0} MiB)");
    }
}
