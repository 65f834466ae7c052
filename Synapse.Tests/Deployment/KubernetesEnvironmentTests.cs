using Synapse.Silo.Hosting;

namespace Synapse.Tests.Deployment;

/// <summary>The gateway reads its pod identity from exactly the variables the chart sets.</summary>
[Trait("Category", "Unit")]
public sealed class KubernetesEnvironmentTests
{
    [Fact]
    public void GatewayKubernetesVariables_AreTheChartsPodAndOrleansVariables()
    {
        Assert.Equal(
            KubernetesContract.PodEnvironment.Concat(KubernetesContract.OrleansEnvironment).Order(),
            KubernetesEnvironment.Variables.Order());
    }

    [Fact]
    public void Detect_WithTheChartsVariables_ReadsThePodIdentity()
    {
        var environment = new Dictionary<string, string>
        {
            ["POD_NAME"] = "synapse-7d9f-abcde",
            ["POD_NAMESPACE"] = "llm",
            ["POD_IP"] = "10.1.2.3",
            ["ORLEANS_SERVICE_ID"] = "synapse",
            ["ORLEANS_CLUSTER_ID"] = "prod",
        };

        var identity = KubernetesEnvironment.Detect(name => environment.GetValueOrDefault(name));

        Assert.Equal(new KubernetesEnvironment("synapse-7d9f-abcde", "llm", "10.1.2.3", "synapse", "prod"), identity);
    }

    [Fact]
    public void Detect_OutsideKubernetes_IsNull()
    {
        Assert.Null(KubernetesEnvironment.Detect(name => name == "POD_NAME" ? "x" : null));
    }
}
