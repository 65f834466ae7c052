using Synapse.Grains.Agents;

namespace Synapse.Grains.Cluster;

/// <summary>
/// Asks every listed silo the same question at once, each within its own deadline, so one slow or dying silo costs
/// its own answer and never the others'. The one helper for every "ask all silos" (their sockets, their history).
/// </summary>
public static class SiloFanOut
{
    /// <summary>One answer per silo, in the order given; a silo that failed or was late answers nothing.</summary>
    public static Task<SiloAnswer<T>[]> AskAsync<T>(IEnumerable<SiloAddress> silos, Func<SiloAddress, Task<T>> ask, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.WhenAll(silos.Select(async silo =>
        {
            try
            {
                return new SiloAnswer<T>(silo, await ask(silo).WaitAsync(timeout, cancellationToken), null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new SiloAnswer<T>(silo, default, ex);
            }
        }));

    /// <summary>Asks each silo's <see cref="ISiloDirectoryGrain"/>: the sockets are the truth.</summary>
    public static Task<SiloAnswer<T>[]> AskDirectoriesAsync<T>(IGrainFactory grains, IEnumerable<SiloAddress> silos, Func<ISiloDirectoryGrain, Task<T>> ask, TimeSpan timeout, CancellationToken cancellationToken) =>
        AskAsync(silos, silo => ask(grains.GetGrain<ISiloDirectoryGrain>(AgentConnectionKey.ForSilo(silo))), timeout, cancellationToken);

    /// <summary>The silos that take calls (active, or shutting down and still finishing theirs).</summary>
    public static SiloAddress[] Reachable(IClusterMembershipService membership) =>
        [.. membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status is SiloStatus.Active or SiloStatus.ShuttingDown)
            .Select(m => m.SiloAddress)];
}

/// <summary>One silo's answer to <see cref="SiloFanOut"/>; <see cref="Value"/> is default when it did not answer.</summary>
public readonly record struct SiloAnswer<T>(SiloAddress Silo, T? Value, Exception? Failure)
{
    public bool Answered => Failure is null;
}
