using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Synapse.Silo.Hosting;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Deployment;

/// <summary>
/// The Helm chart, through .ci/chart-check.sh (helm lint and template, every object validated against the
/// Kubernetes schemas), and its rendered manifests against <see cref="KubernetesContract"/> and the gateway.
/// </summary>
[Trait("Category", "Chart")]
public sealed partial class HelmChartTests
{
    private const string FullValues = "helm/synapse/ci/full-values.yaml";

    [Fact]
    public async Task Chart_DefaultValues_LintsAndRendersValidManifests()
    {
        await AssertCheckPassesAsync("lint");
        await AssertCheckPassesAsync("default");
    }

    [Fact]
    public async Task Chart_FullValues_RendersValidManifests_OnCurrentAndPre130Kubernetes()
    {
        await AssertCheckPassesAsync("full");
        await AssertCheckPassesAsync("old-kube");
    }

    [Fact]
    public async Task Chart_OtherValueCombinations_RenderValidManifests()
    {
        await AssertCheckPassesAsync("variants");
    }

    [Fact]
    public async Task Chart_WrongTypedValues_AreRejectedBySchema()
    {
        await AssertCheckPassesAsync("schema");
    }

    [Theory]
    [InlineData(null)]
    [InlineData(FullValues)]
    public async Task Chart_GatewayDeployment_SetsEveryContractVariable(string? values)
    {
        var env = (await ChartCheck.RenderAsync(values)).GatewayDeployment().Container("gateway").Env();

        var missing = KubernetesContract.AlwaysSetEnvironment.Where(name => !env.ContainsKey(name)).ToList();
        Assert.True(missing.Count == 0, $"not set: {string.Join(", ", missing)}");
        Assert.Equal("0.0.0.0", env["SYNAPSE_HOST"].At("value"));
        Assert.Equal(values is not null, env.ContainsKey(KubernetesContract.OtlpEndpointVariable));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(FullValues)]
    public async Task Chart_OrleansIds_ComeFromThePodLabels(string? values)
    {
        var deployment = (await ChartCheck.RenderAsync(values)).GatewayDeployment();
        var env = deployment.Container("gateway").Env();

        foreach (var (variable, label, gatewayVariable) in KubernetesContract.OrleansIds)
        {
            Assert.False(string.IsNullOrEmpty(deployment.PodLabel(label)), $"pod label {label} missing");
            Assert.Equal($"metadata.labels['{label}']", env[variable].At("valueFrom", "fieldRef", "fieldPath"));
            Assert.Equal($"$({variable})", env[gatewayVariable].At("value"));
        }

        Assert.Equal("metadata.name", env["POD_NAME"].At("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"].At("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("status.podIP", env["POD_IP"].At("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("$(POD_IP)", env["SYNAPSE_ADVERTISE_ADDRESS"].At("value"));
    }

    [Fact]
    public async Task Chart_Redis_IsBundledByDefault_OrReadFromTheExistingSecret()
    {
        var bundled = await ChartCheck.RenderAsync();
        var redisService = Assert.Single(bundled.OfKind("Service"), s => Manifests.Label(s, "app.kubernetes.io/component") == "redis");
        var connection = bundled.GatewayDeployment().Container("gateway").Env()["SYNAPSE_REDIS"].At("value");
        Assert.StartsWith($"{redisService.At("metadata", "name")}:6379,password=$(REDIS_PASSWORD)", connection, StringComparison.Ordinal);

        var external = await ChartCheck.RenderAsync(FullValues);
        Assert.DoesNotContain(external.OfKind("Deployment"), d => Manifests.Label(d, "app.kubernetes.io/component") == "redis");
        var env = external.GatewayDeployment().Container("gateway").Env();
        Assert.Equal("synapse-redis", env["SYNAPSE_REDIS"].At("valueFrom", "secretKeyRef", "name"));
        Assert.Equal("connection", env["SYNAPSE_REDIS"].At("valueFrom", "secretKeyRef", "key"));
        Assert.Equal("synapse-keys", env["SYNAPSE_API_AUTH_KEY"].At("valueFrom", "secretKeyRef", "name"));
        Assert.Empty(external.OfKind("Secret"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(FullValues)]
    public async Task Chart_TerminationGracePeriod_CoversPreStopAndTheGatewaysShutdown(string? values)
    {
        var deployment = (await ChartCheck.RenderAsync(values)).GatewayDeployment();
        var container = deployment.Container("gateway");
        var grace = deployment.PodSpec().GetProperty("terminationGracePeriodSeconds").GetInt32();
        var preStop = container.GetProperty("lifecycle").GetProperty("preStop");
        var sleep = preStop.TryGetProperty("sleep", out var action)
            ? action.GetProperty("seconds").GetInt32()
            : int.Parse(preStop.GetProperty("exec").GetProperty("command")[1].GetString()!, CultureInfo.InvariantCulture);
        var drain = int.Parse(container.Env()["SYNAPSE_DRAIN_TIMEOUT"].At("value")!, CultureInfo.InvariantCulture);

        // The kubelet's clock starts before the preStop hook; the gateway's own shutdown budget starts at SIGTERM.
        var shutdown = await GatewayShutdownTimeoutAsync(drain);
        Assert.True(shutdown >= TimeSpan.FromSeconds(drain), $"the gateway's shutdown ({shutdown}) is shorter than its drain");
        Assert.True(TimeSpan.FromSeconds(grace) >= TimeSpan.FromSeconds(sleep) + shutdown,
            $"grace {grace}s < preStop {sleep}s + gateway shutdown {shutdown.TotalSeconds}s (drain {drain}s)");
        Assert.InRange(sleep, 1, drain);
    }

    [Fact]
    public async Task Chart_Probes_UseTheGatewayHealthEndpoints_OnItsPorts()
    {
        var container = (await ChartCheck.RenderAsync()).GatewayDeployment().Container("gateway");
        var env = container.Env();
        var ports = container.GetProperty("ports").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("containerPort").GetInt32());

        Assert.Equal(KubernetesContract.LivenessPath, container.At("startupProbe", "httpGet", "path"));
        Assert.Equal(KubernetesContract.LivenessPath, container.At("livenessProbe", "httpGet", "path"));
        Assert.Equal(KubernetesContract.ReadinessPath, container.At("readinessProbe", "httpGet", "path"));
        Assert.Equal("http", container.At("readinessProbe", "httpGet", "port"));
        Assert.Equal(KubernetesContract.HttpPort, ports["http"]);
        Assert.Equal(KubernetesContract.SiloPort, ports["silo"]);
        Assert.Equal(KubernetesContract.OrleansGatewayPort, ports["orleans-gw"]);
        Assert.Equal(ports["http"].ToString(CultureInfo.InvariantCulture), env["SYNAPSE_PORT"].At("value"));
        Assert.Equal(ports["silo"].ToString(CultureInfo.InvariantCulture), env["SYNAPSE_SILO_PORT"].At("value"));
        Assert.Equal(ports["orleans-gw"].ToString(CultureInfo.InvariantCulture), env["SYNAPSE_GATEWAY_PORT"].At("value"));
    }

    [Fact]
    public async Task Chart_Role_GrantsWhatOrleansKubernetesHostingNeeds_ToTheSilosAccount()
    {
        var objects = await ChartCheck.RenderAsync();
        var role = Assert.Single(objects.OfKind("Role"));
        var podRule = Assert.Single(role.GetProperty("rules").EnumerateArray(),
            r => r.GetProperty("resources").EnumerateArray().Any(x => x.GetString() == "pods"));
        var verbs = podRule.GetProperty("verbs").EnumerateArray().Select(v => v.GetString()).ToHashSet();
        Assert.Subset(verbs, KubernetesContract.PodVerbs.ToHashSet<string?>());

        var binding = Assert.Single(objects.OfKind("RoleBinding"));
        Assert.Equal(role.At("metadata", "name"), binding.At("roleRef", "name"));
        var account = objects.GatewayDeployment().PodSpec().GetProperty("serviceAccountName").GetString();
        Assert.Contains(binding.GetProperty("subjects").EnumerateArray(), s => s.At("name") == account && s.At("kind") == "ServiceAccount");
        Assert.Single(objects.OfKind("ServiceAccount"), a => a.At("metadata", "name") == account);
    }

    [Fact]
    public async Task Chart_ServiceAndMonitor_UseTheHttpPort()
    {
        var objects = await ChartCheck.RenderAsync(FullValues);
        var service = Assert.Single(objects.OfKind("Service"));
        var port = Assert.Single(service.GetProperty("spec").GetProperty("ports").EnumerateArray());
        Assert.Equal("http", port.At("targetPort"));

        var endpoint = Assert.Single(Assert.Single(objects.OfKind("ServiceMonitor")).GetProperty("spec").GetProperty("endpoints").EnumerateArray());
        Assert.Equal(KubernetesContract.MetricsPath, endpoint.At("path"));
        Assert.Equal(port.At("name"), endpoint.At("port"));
    }

    [Fact]
    public async Task Chart_Ingress_KeepsStreamsAndWebSocketsOpenAndUnbuffered()
    {
        var ingress = Assert.Single((await ChartCheck.RenderAsync(FullValues)).OfKind("Ingress"));
        var annotations = ingress.GetProperty("metadata").GetProperty("annotations");

        Assert.Equal("off", annotations.At("nginx.ingress.kubernetes.io/proxy-buffering"));
        Assert.Equal("off", annotations.At("nginx.ingress.kubernetes.io/proxy-request-buffering"));
        foreach (var timeout in new[] { "proxy-read-timeout", "proxy-send-timeout" })
        {
            var seconds = int.Parse(annotations.At($"nginx.ingress.kubernetes.io/{timeout}")!, CultureInfo.InvariantCulture);
            Assert.True(seconds >= 600, $"{timeout} {seconds}s would cut long streams");
        }
    }

    [Fact]
    public async Task Chart_DashboardConfigMap_CarriesEveryDashboardFile_ForTheGrafanaSidecar()
    {
        var configMap = Assert.Single((await ChartCheck.RenderAsync(FullValues)).OfKind("ConfigMap"));
        Assert.Equal("1", Manifests.Label(configMap, "grafana_dashboard"));

        var files = Directory.GetFiles(RepositoryRoot.File("helm", "synapse", "dashboards"), "*.json").Select(f => Path.GetFileName(f)).Order().ToList();
        Assert.NotEmpty(files);
        var data = configMap.GetProperty("data");
        Assert.Equal(files, data.EnumerateObject().Select(p => p.Name).Order().ToList());
        foreach (var entry in data.EnumerateObject())
        {
            using var dashboard = JsonDocument.Parse(entry.Value.GetString()!);
            Assert.False(string.IsNullOrEmpty(dashboard.RootElement.At("uid")), $"{entry.Name} has no uid");
            Assert.False(string.IsNullOrEmpty(dashboard.RootElement.At("title")), $"{entry.Name} has no title");
        }
    }

    [Fact]
    public void Chart_AppVersion_IsTheProductVersion()
    {
        var version = ProductVersion().Match(RepositoryRoot.Read("Directory.Build.props")).Groups[1].Value;
        var appVersion = AppVersion().Match(RepositoryRoot.Read("helm", "synapse", "Chart.yaml")).Groups[1].Value;

        Assert.False(string.IsNullOrEmpty(version));
        Assert.Equal(version, appVersion);
    }

    [Fact]
    public void KubernetesContract_GatewayVariables_AreFlagsOfTheGateway()
    {
        var flags = GatewayCommandLine.Flags.Select(f => f.EnvironmentVariable).ToHashSet();
        var unknown = KubernetesContract.GatewayEnvironment.Where(name => !flags.Contains(name)).ToList();
        Assert.True(unknown.Count == 0, $"the gateway has no flag for {string.Join(", ", unknown)}");
    }

    private static async Task AssertCheckPassesAsync(string check)
    {
        var result = await ChartCheck.RunAsync(check);
        Assert.True(result.ExitCode == 0, $"chart-check.sh {check} failed, {result}");
    }

    /// <summary>The gateway's own shutdown budget (HostOptions.ShutdownTimeout) for a drain timeout, from its host.</summary>
    private static async Task<TimeSpan> GatewayShutdownTimeoutAsync(int drainSeconds)
    {
        var drain = GatewayCommandLine.Flags.Single(f => f.EnvironmentVariable == "SYNAPSE_DRAIN_TIMEOUT");
        var settings = new Dictionary<string, string?>
        {
            [drain.ConfigurationKey] = TimeSpan.FromSeconds(drainSeconds).ToString("c", CultureInfo.InvariantCulture),
        };
        await using var app = GatewayHost.Build(settings);
        return app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
    }

    [GeneratedRegex(@"<Version>([^<]+)</Version>")]
    private static partial Regex ProductVersion();

    [GeneratedRegex("""(?m)^appVersion:\s*"?([^"\s]+)"?""")]
    private static partial Regex AppVersion();
}
