using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using Synapse.Grains.Agents;
using Synapse.Grains.Hosting;
using Synapse.Grains.Models;
using Synapse.Grains.Relay;

namespace Synapse.Tests.Grains;

/// <summary>
/// Three in-process silos running Synapse's grains, with stub socket registries. Tests that kill or stop a silo
/// start their own extra silo for it, so the shared cluster stays usable by the rest of the collection.
/// </summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddSynapseGrains();
            silo.Services.AddSingleton<StubAgentConnections>();
            silo.Services.AddSingleton<ILocalAgentConnections>(sp => sp.GetRequiredService<StubAgentConnections>());
            silo.Services.Configure<ModelGrainOptions>(o =>
            {
                o.RegistrationTtl = TimeSpan.FromSeconds(2);
                o.ReconnectGrace = TimeSpan.FromSeconds(1);
                o.MaxQueueLength = 3;
            });
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            });
        });
        builder.ConfigureHost(host => host.Logging.SetMinimumLevel(LogLevel.Warning));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    public StubAgentConnections ConnectionsOn(SiloAddress silo) =>
        Cluster.GetSiloServiceProvider(silo).GetRequiredService<StubAgentConnections>();

    public IReadOnlyList<SiloAddress> Silos => [.. Cluster.GetActiveSilos().Select(s => s.SiloAddress)];
}

[CollectionDefinition(Name)]
public sealed class GrainClusterCollection : ICollectionFixture<GrainClusterFixture>
{
    public const string Name = "grain cluster";
}
