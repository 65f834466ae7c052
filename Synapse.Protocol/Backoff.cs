namespace Synapse.Protocol;

/// <summary>
/// The one backoff of the product (gateway and agent): a first delay doubling on each attempt up to a ceiling, with
/// jitter so that many waiters retrying the same thing (agents after a gateway restart, pulling agents after a silo
/// died) do not knock at the same moment.
/// </summary>
/// <param name="First">Delay before the first retry (attempt 0).</param>
/// <param name="Max">The ceiling.</param>
/// <param name="Jitter">Spread around the delay, as a share of it: 0.2 gives 80-120 %.</param>
public readonly record struct Backoff(TimeSpan First, TimeSpan Max, double Jitter = 0.2)
{
    public TimeSpan Delay(int attempt, Random? random = null)
    {
        var delay = Math.Min(First.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt, 0, 30)), Max.TotalMilliseconds);
        var spread = Jitter * ((2 * (random ?? Random.Shared).NextDouble()) - 1);
        return TimeSpan.FromMilliseconds(Math.Max(0, delay * (1 + spread)));
    }

    /// <summary>Waits the delay of <paramref name="attempt"/>; false when cancelled meanwhile.</summary>
    public async Task<bool> WaitAsync(int attempt, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Delay(attempt), cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
