using System.Net;
using System.Net.Sockets;
using Orleans.Configuration;
using StackExchange.Redis;
using Synapse.Grains.Hosting;

namespace Synapse.Silo.Hosting;

/// <summary>How the co-hosted silo joins its cluster and carries responses between silos.</summary>
internal static class OrleansSetup
{
    public static void Configure(ISiloBuilder silo, ClusterOptions cluster, KubernetesEnvironment? kubernetes, bool tracing)
    {
        if (kubernetes is not null)
        {
            // Pod name, pod IP, service and cluster ids come from the pod (see the Helm chart); membership is Redis.
            if (string.IsNullOrWhiteSpace(cluster.Redis))
            {
                throw new InvalidOperationException("Running in Kubernetes needs Redis membership: set --redis or SYNAPSE_REDIS.");
            }

            var redis = cluster.Redis;
            silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            silo.Configure<EndpointOptions>(o =>
            {
                o.SiloPort = cluster.SiloPort;
                o.GatewayPort = cluster.GatewayPort;
            });
            silo.UseKubernetesHosting();
        }
        else if (!string.IsNullOrWhiteSpace(cluster.Redis))
        {
            var redis = cluster.Redis;
            silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            silo.Configure<Orleans.Configuration.ClusterOptions>(o =>
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

        // Usage counts outlive silos with Redis (the same one as membership); a single silo keeps them in memory.
        if (string.IsNullOrWhiteSpace(cluster.Redis))
        {
            silo.AddMemoryGrainStorage(Synapse.Grains.Usage.UsageOptions.StorageName);
        }
        else
        {
            var redis = cluster.Redis;
            silo.AddRedisGrainStorage(Synapse.Grains.Usage.UsageOptions.StorageName, o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));

            // Orleans' own binary format, as the state types are generated serializable records: the default JSON one
            // tracks references by value equality and cannot read back two equal records in one state.
            silo.Services.AddOptions<Orleans.Persistence.RedisStorageOptions>(Synapse.Grains.Usage.UsageOptions.StorageName)
                .Configure<Orleans.Serialization.Serializer>((o, serializer) => o.GrainStorageSerializer = new Orleans.Storage.OrleansGrainStorageSerializer(serializer));
        }

        // A killed silo is declared dead in a few seconds rather than the default ~10-30 s: its agents have already
        // reconnected elsewhere, and callers waiting on it are failed as soon as membership says so.
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(2);
            o.NumMissedProbesLimit = 2;
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(30);
        });

        // The directory cache's default of a million entries pre-allocates ~19 MB per silo; a gateway activates a few
        // grains per model and per agent socket, so a tenth of that is still far more than it will hold.
        silo.Configure<GrainDirectoryOptions>(o => o.CacheSize = 100_000);

        // Grains, balancing and the cross-silo relay, each with its options bound and validated where registered.
        silo.AddSynapseGrains();
        WatchdogClock.Install(silo.Services);

        // Trace context crosses grain calls, so one request is one trace across silos. Only when spans are recorded:
        // the grain call filters cost a few percent of every request even with nobody listening.
        if (tracing)
        {
            silo.AddActivityPropagation();
        }
    }

    private static IPAddress AdvertisedAddress(ClusterOptions cluster)
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
