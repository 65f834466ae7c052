using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Cluster;

/// <summary>A redis-server for membership, shared by the real-process cluster tests.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public async Task InitializeAsync() => Redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Redis.DisposeAsync();

    /// <summary>Starts silos A, B and C of a fresh cluster and waits until all three are ready.</summary>
    public async Task<SiloProcess[]> StartClusterAsync(string? clusterId = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        clusterId ??= "proc-" + Guid.NewGuid().ToString("N")[..8];
        var silos = new[] { "A", "B", "C" }.Select(name => SiloProcess.Start(name, Redis, clusterId, environment)).ToArray();
        try
        {
            await Task.WhenAll(silos.Select(s => s.WaitReadyAsync(TimeSpan.FromSeconds(60))));
            return silos;
        }
        catch
        {
            // The test never gets them: stop them here, or they outlive the test run.
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }

            throw;
        }
    }
}

/// <remarks>
/// Runs alone, after the parallel collections: these tests time failover of real processes, which two busy cores
/// shared with a dozen other silos would distort.
/// </remarks>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis cluster";
}
