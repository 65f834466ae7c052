using Microsoft.Extensions.DependencyInjection;
using Synapse.Grains.Models;
using Synapse.Silo.Cluster;
using Synapse.Silo.Tenancy;

namespace Synapse.Tests.Infrastructure;

public static class GatewayInspection
{
    /// <summary>The model grain's view of <paramref name="model"/> in <paramref name="group"/> (the implicit group without a config file).</summary>
    public static Task<ModelSnapshot> SnapshotAsync(this TestGateway gateway, string model, string group = TenantGroup.DefaultName) =>
        gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IModelGrain>(ModelKey.For(group, model)).GetSnapshot();

    public static int ActiveSiloCount(this TestGateway gateway) =>
        gateway.Services.GetRequiredService<ClusterView>().ActiveSiloCount;

    public static async Task<int> InFlightAsync(this TestGateway gateway, string model) =>
        (await gateway.SnapshotAsync(model)).Instances.Sum(i => i.InFlight);

    /// <summary>
    /// Why the gateway ended each socket of the agent named <paramref name="agentName"/> (a <c>ConnectionClosedReason</c>,
    /// from its log), once it has logged the end of <paramref name="sockets"/> of them.
    /// </summary>
    public static async Task<string[]> DisconnectReasonsAsync(this TestGateway gateway, string agentName, int sockets)
    {
        var marker = $"({agentName}) disconnected: ";
        string[] reasons = [];
        await Eventually.UntilAsync(
            () =>
            {
                reasons = [.. gateway.Log.Lines
                    .Where(l => l.Contains(marker, StringComparison.Ordinal))
                    .Select(l => l[(l.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Split(' ')[0])];
                return reasons.Length >= sockets;
            },
            TimeSpan.FromSeconds(10),
            $"the gateway logged the end of {sockets} socket(s) of agent {agentName}");
        return reasons;
    }
}
