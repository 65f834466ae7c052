namespace Synapse.Tests.Infrastructure;

/// <summary>Waits for a condition with a deadline, polling; tests never synchronise by sleeping.</summary>
public static class Eventually
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string because)
    {
        await UntilAsync(() => Task.FromResult(condition()), timeout, because);
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string because)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting until {because}.");
            }

            await Task.Delay(25);
        }
    }
}
