namespace Synapse.Silo.Cluster;

/// <summary>
/// Asks every silo the same question at once, each with its own deadline, so one slow or dying silo costs its own
/// answer and never the others'.
/// </summary>
internal static class SiloFanOut
{
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
}
