using System.Text;
using System.Text.RegularExpressions;
using Synapse.Silo.Tenancy;
using Synapse.Tests.Deployment;

using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Tenancy;

/// <summary>The key-groups files shown in the README and the Kubernetes guide load as they are written there.</summary>
[Trait("Category", "Unit")]
public sealed partial class ReadmeExamplesTests
{
    [Theory]
    [InlineData("README.md", 0, 2)]
    [InlineData("README.md", 1, 1)]
    [InlineData("README.md", 2, 1)]
    public void ReadmeKeyGroupsExample_Loads(string document, int index, int groups)
    {
        var examples = YamlBlocks(RepositoryRoot.Read(document)).Where(b => b.Contains("groups:", StringComparison.Ordinal)).ToList();

        var result = TenancyConfigLoader.Parse("example.yaml", Encoding.UTF8.GetBytes(examples[index]));

        Assert.True(result.Outcome == TenancyLoadOutcome.Ok, result.Describe());
        Assert.Equal(groups, result.Config!.Groups.Count);
    }

    [Fact]
    public void KubernetesGuideValues_RenderAFileThatLoads()
    {
        // The guide's values hold config.groups and config.adminKeys as the chart renders them into the file.
        var values = YamlBlocks(RepositoryRoot.Read("docs", "kubernetes.md")).Single(b => b.Contains("config:", StringComparison.Ordinal));
        var file = values.Replace("config:\n", "", StringComparison.Ordinal).Replace("  adminKeys:", "  admin_keys:", StringComparison.Ordinal);
        file = string.Join('\n', file.Split('\n').Where(l => !l.StartsWith('#')).Select(l => l.StartsWith("  ", StringComparison.Ordinal) ? l[2..] : l));

        var result = TenancyConfigLoader.Parse("groups.yaml", Encoding.UTF8.GetBytes(file));

        Assert.True(result.Outcome == TenancyLoadOutcome.Ok, result.Describe() + "\n" + file);
        Assert.Equal(["alpha", "beta"], result.Config!.Groups.Select(g => g.Name));
        Assert.Equal(["ops"], result.Config.AdminKeyNames);
    }

    private static IEnumerable<string> YamlBlocks(string markdown) =>
        YamlBlock().Matches(markdown.Replace("\r\n", "\n", StringComparison.Ordinal)).Select(m => m.Groups[1].Value);

    [GeneratedRegex("```yaml\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();
}
