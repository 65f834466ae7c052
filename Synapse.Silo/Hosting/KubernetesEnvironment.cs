namespace Synapse.Silo.Hosting;

/// <summary>
/// The pod identity a silo reads in Kubernetes, from the environment variables the Helm chart sets (downward API).
/// Orleans' Kubernetes hosting reads the same names; keeping them here lets a test hold chart and code together.
/// </summary>
public sealed record KubernetesEnvironment(string PodName, string PodNamespace, string PodIp, string? ServiceId, string? ClusterId)
{
    public const string PodNameVariable = "POD_NAME";
    public const string PodNamespaceVariable = "POD_NAMESPACE";
    public const string PodIpVariable = "POD_IP";
    public const string ServiceIdVariable = "ORLEANS_SERVICE_ID";
    public const string ClusterIdVariable = "ORLEANS_CLUSTER_ID";

    /// <summary>Every variable the chart must set for a silo pod.</summary>
    public static readonly IReadOnlyList<string> Variables =
        [PodNameVariable, PodNamespaceVariable, PodIpVariable, ServiceIdVariable, ClusterIdVariable];

    /// <summary>The pod's identity, or null outside Kubernetes (any of the downward-API variables missing).</summary>
    public static KubernetesEnvironment? Detect(Func<string, string?> environment)
    {
        var name = environment(PodNameVariable);
        var ns = environment(PodNamespaceVariable);
        var ip = environment(PodIpVariable);
        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(ns) || string.IsNullOrEmpty(ip))
        {
            return null;
        }

        return new KubernetesEnvironment(name, ns, ip, environment(ServiceIdVariable), environment(ClusterIdVariable));
    }
}
