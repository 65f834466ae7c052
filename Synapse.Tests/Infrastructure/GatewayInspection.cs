using Microsoft.Extensions.DependencyInjection;
using Synapse.Grains.Models;
using Synapse.Silo.Cluster;

namespace Synapse.Tests.Infrastructure;

public static class GatewayInspection
{
    public static Task<ModelSnapshot> SnapshotAsync(this TestGateway gateway, string model) =>
        gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IModelGrain>(model).GetSnapshot();

    public static int ActiveSiloCount(this TestGateway gateway) =>
        gateway.Services.GetRequiredService<ClusterView>().ActiveSiloCount;

    public static async Task<int> InFlightAsync(this TestGateway gateway, string model) =>
        (await gateway.SnapshotAsync(model)).Instances.Sum(i => i.InFlight);
}
