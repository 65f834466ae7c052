using System.Text;
using System.Text.Json;
using Synapse.Silo.Hosting;
using Synapse.Silo.Tenancy;

namespace Synapse.Tests.Deployment;

/// <summary>
/// Key groups in the Helm chart (config.*): the file the chart renders is one the gateway accepts, it reaches every
/// silo as a Secret mounted whole (so the kubelet updates it in place), and changing the groups changes nothing
/// in the Deployment's pod template, so no silo restarts.
/// </summary>
[Trait("Category", "Chart")]
public sealed class HelmKeyGroupsTests
{
    private const string GroupsValues = "helm/synapse/ci/groups-values.yaml";
    private const string SecretValues = "helm/synapse/ci/groups-secret-values.yaml";

    [Fact]
    public async Task RenderedFile_IsOneTheGatewayAccepts()
    {
        var secret = KeyGroupsSecret(await ChartCheck.RenderAsync(GroupsValues));
        var file = Encoding.UTF8.GetString(Convert.FromBase64String(secret.GetProperty("data").GetProperty("groups.yaml").GetString()!));

        var result = TenancyConfigLoader.Parse("groups.yaml", Encoding.UTF8.GetBytes(file));

        Assert.True(result.Outcome == TenancyLoadOutcome.Ok, result.Describe());
        var config = result.Config!;
        Assert.Equal(["alpha", "beta"], config.Groups.Select(g => g.Name));
        Assert.Equal(["alpha/key-1", "ci-bot"], config.FindGroup("alpha")!.ApiKeyNames);
        Assert.Equal(new RateLimits(6000, null, null), config.FindGroup("alpha")!.Limits);
        Assert.Equal("alpha/key-1", config.FindApiCaller("alpha-app-key-0b9d")?.KeyName);
        Assert.Equal(["ops"], config.AdminKeyNames);
        Assert.Equal("llama-3.1-70b", config.FindGroup("alpha")!.Aliases.Resolve("gpt-4o"));
        Assert.NotNull(config.FindAgent("beta-agents-key-52aa"));
    }

    [Fact]
    public async Task Secret_IsMountedWholeAsADirectory_AndSynapseConfigNamesTheFileInIt()
    {
        var objects = await ChartCheck.RenderAsync(GroupsValues);
        var deployment = objects.GatewayDeployment();
        var container = deployment.Container("gateway");
        var env = container.Env();

        var volume = Assert.Single(deployment.PodSpec().GetProperty("volumes").EnumerateArray(), v => v.TryGetProperty("secret", out _));
        Assert.Equal(KeyGroupsSecret(objects).At("metadata", "name"), volume.At("secret", "secretName"));
        var mount = Assert.Single(container.GetProperty("volumeMounts").EnumerateArray(), m => m.At("name") == volume.At("name"));
        Assert.False(mount.TryGetProperty("subPath", out _), "a subPath mount never sees the kubelet's updates");
        Assert.True(mount.GetProperty("readOnly").GetBoolean());
        Assert.Equal($"{mount.At("mountPath")}/groups.yaml", env["SYNAPSE_CONFIG"].At("value"));
        Assert.Contains(GatewayCommandLine.Flags, f => f.EnvironmentVariable == "SYNAPSE_CONFIG" && f.Name == "--config");

        // --config and the single-key variables together would stop the gateway (exit code 2).
        Assert.False(env.ContainsKey("SYNAPSE_API_AUTH_KEY"));
        Assert.False(env.ContainsKey("SYNAPSE_WS_AUTH_KEY"));
        Assert.DoesNotContain(objects.OfKind("Secret"), s => s.At("metadata", "name") == "synapse");
    }

    [Fact]
    public async Task ChangingTheGroups_LeavesThePodTemplateAlone_SoNoSiloRestarts()
    {
        var before = await ChartCheck.RenderAsync(GroupsValues);
        var after = await RenderWithAsync("""
            config:
              groups:
                - name: gamma
                  ws_auth_keys: [gamma-agents-key-4b1f]
                  api_keys: [gamma-app-key-e0c2, { name: new-bot, key: gamma-bot-key-77aa }]
            """);

        Assert.NotEqual(KeyGroupsSecret(before).GetProperty("data").GetRawText(), KeyGroupsSecret(after).GetProperty("data").GetRawText());
        Assert.Equal(Template(before), Template(after));
        Assert.DoesNotContain("checksum", Template(after), StringComparison.OrdinalIgnoreCase);

        static string Template(JsonElement objects) => objects.GatewayDeployment().GetProperty("spec").GetProperty("template").GetRawText();
    }

    [Fact]
    public async Task ExistingSecret_IsMountedInstead_AndTheChartRendersNoFile()
    {
        var objects = await ChartCheck.RenderAsync(SecretValues);
        var deployment = objects.GatewayDeployment();

        Assert.Contains(deployment.PodSpec().GetProperty("volumes").EnumerateArray(), v => v.At("secret", "secretName") == "synapse-groups");
        Assert.EndsWith("/groups.json", deployment.Container("gateway").Env()["SYNAPSE_CONFIG"].At("value"), StringComparison.Ordinal);
        Assert.DoesNotContain(objects.OfKind("Secret"), s => Manifests.Label(s, "app.kubernetes.io/component") == "key-groups");
    }

    [Theory]
    [InlineData("auth:\n  apiKey: 0123456789abcdef0123\n", "cannot be combined with auth.apiKey, auth.wsKey or auth.existingSecret")]
    [InlineData("auth:\n  existingSecret: my-keys\n", "cannot be combined with auth.apiKey, auth.wsKey or auth.existingSecret")]
    [InlineData("config:\n  existingSecret: my-groups\n", "config.groups and config.existingSecret are both set")]
    public async Task KeyGroupsWithAnotherKeySource_FailsTheRender_SayingWhatToDo(string extra, string message)
    {
        var result = await RenderFailingAsync("""
            config:
              groups:
                - name: alpha
                  ws_auth_keys: [alpha-agents-key-7c1e]
                  api_keys: [alpha-app-key-0b9d]
            """, extra);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    private static JsonElement KeyGroupsSecret(JsonElement objects) =>
        Assert.Single(objects.OfKind("Secret"), s => Manifests.Label(s, "app.kubernetes.io/component") == "key-groups");

    private static async Task<JsonElement> RenderWithAsync(string values)
    {
        var result = await RenderFailingAsync(values);
        Assert.True(result.ExitCode == 0, $"render failed, {result}");
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    private static async Task<ChartCheck.Result> RenderFailingAsync(params string[] values)
    {
        var path = Path.Combine(Path.GetTempPath(), $"synapse-values-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, MergeTopLevel(values));
        try
        {
            return await ChartCheck.RunAsync("render", path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Two snippets may both start with <c>config:</c>; YAML refuses a repeated key, so nest them under one.</summary>
    private static string MergeTopLevel(string[] snippets)
    {
        var sections = new Dictionary<string, StringBuilder>(StringComparer.Ordinal);
        foreach (var snippet in snippets)
        {
            string? current = null;
            foreach (var line in snippet.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!line.StartsWith(' '))
                {
                    current = line.TrimEnd(':');
                    sections.TryAdd(current, new StringBuilder());
                    continue;
                }

                sections[current!].Append(line).Append('\n');
            }
        }

        return string.Concat(sections.Select(s => $"{s.Key}:\n{s.Value}"));
    }
}
