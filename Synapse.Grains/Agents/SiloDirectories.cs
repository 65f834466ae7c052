namespace Synapse.Grains.Agents;

/// <summary>
/// Asks every listed silo's <see cref="ISiloDirectoryGrain"/> at once, each within a timeout: the sockets are the
/// truth, and a silo that is dying must not hold up the answer of the others.
/// </summary>
public static class SiloDirectories
{
    /// <summary>One answer per silo, in the order given; a silo that failed or was late answers nothing.</summary>
    public static async Task<SiloAnswer<T>[]> AskAsync<T>(
        IGrainFactory grains,
        IEnumerable<SiloAddress> silos,
        Func<ISiloDirectoryGrain, Task<T>> ask,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        Action<SiloAddress, Exception>? onFailure = null)
    {
        return await Task.WhenAll(silos.Select(async silo =>
        {
            try
            {
                var answer = await ask(grains.GetGrain<ISiloDirectoryGrain>(AgentConnectionKey.ForSilo(silo))).WaitAsync(timeout, cancellationToken);
                return new SiloAnswer<T>(silo, answer, Answered: true);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                onFailure?.Invoke(silo, ex);
                return new SiloAnswer<T>(silo, default, Answered: false);
            }
        }));
    }

    /// <summary>The silos that take calls (active, or shutting down and still finishing theirs).</summary>
    public static SiloAddress[] Reachable(IClusterMembershipService membership) =>
        [.. membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status is SiloStatus.Active or SiloStatus.ShuttingDown)
            .Select(m => m.SiloAddress)];
}

/// <summary>One silo's answer to <see cref="SiloDirectories.AskAsync{T}"/>; <see cref="Value"/> is default when it did not answer.</summary>
public readonly record struct SiloAnswer<T>(SiloAddress Silo, T? Value, bool Answered);
