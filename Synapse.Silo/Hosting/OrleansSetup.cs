using System.Net;
using System.Net.Sockets;
using Orleans.Configuration;
using StackExchange.Redis;
using Synapse.Grains.Hosting;
using Synapse.Grains.Relay;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Hosting;

/// <summary>How the co-hosted silo joins its cluster and carries responses between silos.</summary>
internal static class OrleansSetup
{
    public static void Configure(ISiloBuilder silo, ClusterSettings cluster, RelayOptions relay)
    {
        if (!string.IsNullOrWhiteSpace(cluster.Redis))
        {
            var redis = cluster.Redis;
            silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            silo.ConfigureEndpoints(AdvertisedAddress(cluster), cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: true);
        }
        else
        {
            var primary = string.IsNullOrWhiteSpace(cluster.PrimarySilo) ? null : ParseEndpoint(cluster.PrimarySilo);
            silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, primary, cluster.ServiceId, cluster.ClusterId);
        }

        // A killed silo is declared dead in a few seconds rather than the default ~10-30 s: its agents have already
        // reconnected elsewhere, and callers waiting on it are failed as soon as membership says so.
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(2);
            o.NumMissedProbesLimit = 2;
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(30);
        });

        silo.AddMemoryGrainStorage("PubSubStore");
        silo.AddMemoryStreams(RelayStreams.ProviderName, streams =>
        {
            streams.ConfigurePartitioning(relay.Queues);
            streams.ConfigurePullingAgent(agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = relay.PollingPeriod));
        });

        silo.AddSynapseGrains();
    }

    private static IPAddress AdvertisedAddress(ClusterSettings cluster)
    {
        if (!string.IsNullOrWhiteSpace(cluster.AdvertiseAddress))
        {
            return IPAddress.Parse(cluster.AdvertiseAddress);
        }

        var addresses = Dns.GetHostAddresses(Dns.GetHostName());
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? IPAddress.Loopback;
    }

    private static IPEndPoint ParseEndpoint(string value)
    {
        if (IPEndPoint.TryParse(value, out var endpoint))
        {
            return endpoint;
        }

        var colon = value.LastIndexOf(':');
        var host = colon > 0 ? value[..colon] : value;
        var port = colon > 0 ? int.Parse(value[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture) : 11111;
        var address = Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        return new IPEndPoint(address, port);
    }
}
