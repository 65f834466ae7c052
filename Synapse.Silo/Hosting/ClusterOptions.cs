namespace Synapse.Silo.Hosting;

/// <summary>Orleans membership and endpoints (section <c>Synapse:Cluster</c>).</summary>
public sealed class ClusterOptions
{
    public const string SectionName = "Synapse:Cluster";

    /// <summary>Redis connection string for membership; empty means localhost clustering.</summary>
    public string? Redis { get; set; }

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    public string ClusterId { get; set; } = "synapse";

    public string ServiceId { get; set; } = "synapse";

    /// <summary>The address other silos reach this one at. Default: loopback for localhost clustering, else this host's.</summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>Development clustering without Redis: the silo endpoint (host:port) of the first silo to join.</summary>
    public string? PrimarySilo { get; set; }
}
