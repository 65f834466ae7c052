namespace Synapse.Tests.Deployment;

/// <summary>
/// What the Helm chart promises the gateway, and the gateway the chart: environment variable names, labels, ports,
/// endpoints and permissions. The chart tests check the rendered manifests against it; keep it in step with the
/// gateway's flags (GatewayCommandLine) and its Kubernetes hosting.
/// </summary>
public static class KubernetesContract
{
    /// <summary>Downward-API pod identity; when all three are set the gateway calls Orleans' UseKubernetesHosting().</summary>
    public static readonly IReadOnlyList<string> PodEnvironment = ["POD_NAME", "POD_NAMESPACE", "POD_IP"];

    /// <summary>Read by UseKubernetesHosting(); equal to the pod's Orleans labels.</summary>
    public static readonly IReadOnlyList<string> OrleansEnvironment = ["ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID"];

    /// <summary>Gateway flags the chart always sets (each is an environment variable of GatewayCommandLine.Flags).</summary>
    public static readonly IReadOnlyList<string> GatewayEnvironment =
    [
        "SYNAPSE_HOST",
        "SYNAPSE_PORT",
        "SYNAPSE_SILO_PORT",
        "SYNAPSE_GATEWAY_PORT",
        "SYNAPSE_SERVICE_ID",
        "SYNAPSE_CLUSTER_ID",
        "SYNAPSE_ADVERTISE_ADDRESS",
        "SYNAPSE_API_AUTH_KEY",
        "SYNAPSE_WS_AUTH_KEY",
        "SYNAPSE_REDIS",
        "SYNAPSE_DRAIN_TIMEOUT",
        "SYNAPSE_TRUST_FORWARDED_HEADERS",
    ];

    /// <summary>OpenTelemetry's standard variables the chart always sets.</summary>
    public static readonly IReadOnlyList<string> TelemetryEnvironment = ["OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"];

    /// <summary>Set only when otel.endpoint is.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static IEnumerable<string> AlwaysSetEnvironment =>
        PodEnvironment.Concat(OrleansEnvironment).Concat(GatewayEnvironment).Concat(TelemetryEnvironment);

    /// <summary>Pod labels Orleans' Kubernetes hosting selects its silos by.</summary>
    public const string ServiceIdLabel = "orleans/serviceId";
    public const string ClusterIdLabel = "orleans/clusterId";

    /// <summary>Which pod label each Orleans id variable is read from, and which gateway flag repeats it.</summary>
    public static readonly IReadOnlyList<(string Variable, string Label, string GatewayVariable)> OrleansIds =
    [
        ("ORLEANS_SERVICE_ID", ServiceIdLabel, "SYNAPSE_SERVICE_ID"),
        ("ORLEANS_CLUSTER_ID", ClusterIdLabel, "SYNAPSE_CLUSTER_ID"),
    ];

    /// <summary>Container ports: the image's EXPOSE and the chart's defaults.</summary>
    public const int HttpPort = 8080;
    public const int SiloPort = 11111;
    public const int OrleansGatewayPort = 30000;

    public const string LivenessPath = "/healthz";
    public const string ReadinessPath = "/readyz";
    public const string MetricsPath = "/metrics";

    /// <summary>What Orleans' Kubernetes hosting does to pods of its cluster.</summary>
    public static readonly IReadOnlyList<string> PodVerbs = ["get", "list", "watch", "delete", "patch"];

    /// <summary>In the image: the folder /getclient serves, laid out as &lt;rid&gt;/synapse-client.</summary>
    public const string ClientBinaryFolder = "/app/clients";
    public const string ClientExecutable = "synapse-client";
    public static readonly IReadOnlyList<string> ClientRids = ["linux-x64", "linux-arm64"];
    public const string GatewayAssembly = "Synapse.Silo.dll";
}
