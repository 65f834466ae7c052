using System.Text.RegularExpressions;
using Synapse.Silo.Hosting;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Deployment;

/// <summary>
/// The Dockerfile, checked without a container engine: what it copies and builds exists and reaches the build
/// context, and the image it describes matches what the gateway and the chart expect.
/// </summary>
[Trait("Category", "Unit")]
public sealed partial class DockerfileTests
{
    private static readonly Dockerfile Spec = Dockerfile.Parse(RepositoryRoot.Read("Dockerfile"));
    private static readonly DockerIgnore Ignore = new(RepositoryRoot.Read(".dockerignore"));

    [Fact]
    public void Dockerfile_CopySources_ExistAndAreInTheBuildContext()
    {
        var copies = Spec.All("COPY").Select(Dockerfile.ParseCopy).Where(c => !c.Flags.ContainsKey("from")).ToList();
        Assert.NotEmpty(copies);

        foreach (var source in copies.SelectMany(c => c.Sources))
        {
            var path = RepositoryRoot.File(source.Split('/'));
            Assert.True(File.Exists(path) || Directory.Exists(path), $"COPY {source}: no such file in the repository");
            if (source != ".")
            {
                Assert.False(Ignore.Excludes(source), $"COPY {source}: .dockerignore leaves it out of the context");
            }
        }
    }

    [Fact]
    public void Dockerfile_BuildsProjectsThatExist()
    {
        var projects = Spec.All("RUN").SelectMany(r => DotnetProject().Matches(r.Arguments)).Select(m => m.Groups[1].Value).ToHashSet();

        Assert.Contains("Synapse.Silo/Synapse.Silo.csproj", projects);
        Assert.Contains("Synapse.Client/Synapse.Client.csproj", projects);
        foreach (var project in projects)
        {
            Assert.True(File.Exists(RepositoryRoot.File(project.Split('/'))), $"{project} does not exist");
        }
    }

    [Fact]
    public void Dockerfile_RestoreLayer_CopiesEveryProjectTheGatewayAndAgentReference()
    {
        // Before `COPY . .`, the restore sees only what was copied: every referenced project must be among it.
        var copied = Spec.All("COPY").Select(Dockerfile.ParseCopy).Where(c => !c.Flags.ContainsKey("from"))
            .SelectMany(c => c.Sources).ToHashSet();
        foreach (var project in ReferencedProjects("Synapse.Silo/Synapse.Silo.csproj").Concat(ReferencedProjects("Synapse.Client/Synapse.Client.csproj")))
        {
            Assert.Contains(project, copied);
        }

        foreach (var file in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.Contains(file, copied);
        }
    }

    [Fact]
    public void DockerIgnore_KeepsBuildInputs_AndDropsBuildOutputs()
    {
        foreach (var input in new[] { ".editorconfig", "global.json", "Directory.Build.props", "Synapse.Silo/Program.cs", "Synapse.Client/Synapse.Client.csproj" })
        {
            Assert.False(Ignore.Excludes(input), $"{input} is needed by the build");
        }

        foreach (var output in new[] { "Synapse.Silo/bin/Release/x.dll", "Synapse.Client/obj/project.assets.json", "bin/server", ".git/HEAD", ".ci/tools/helm/helm" })
        {
            Assert.True(Ignore.Excludes(output), $"{output} should stay out of the build context");
        }
    }

    [Fact]
    public void Image_RunsTheGateway_AsNonRoot_OnTheContractPorts()
    {
        var final = Spec.Instructions.Where(i => i.Stage == Spec.LastStage).ToList();

        var entrypoint = Assert.Single(final, i => i.Keyword == "ENTRYPOINT").Arguments;
        Assert.Contains($"\"{typeof(GatewayHost).Assembly.GetName().Name}.dll\"", entrypoint, StringComparison.Ordinal);
        Assert.Contains(KubernetesContract.GatewayAssembly, entrypoint, StringComparison.Ordinal);

        var user = Assert.Single(final, i => i.Keyword == "USER").Arguments;
        Assert.DoesNotMatch("^(root|0)(:.*)?$", user);

        var exposed = final.Where(i => i.Keyword == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        Assert.Equal(
            new[] { KubernetesContract.HttpPort, KubernetesContract.SiloPort, KubernetesContract.OrleansGatewayPort }.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet(),
            exposed);

        var env = Environment(final);
        Assert.Equal("0.0.0.0", env["SYNAPSE_HOST"]);
        Assert.Equal(KubernetesContract.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), env["SYNAPSE_PORT"]);
    }

    [Fact]
    public void Image_ClientFolder_IsLaidOutAsTheGatewayServesIt()
    {
        var final = Spec.Instructions.Where(i => i.Stage == Spec.LastStage).ToList();
        Assert.Equal(KubernetesContract.ClientBinaryFolder, Environment(final)["SYNAPSE_CLIENT_BINARY"]);

        // The folder is copied from the build stage, where each agent is installed as clients/<rid>/synapse-client.
        var workdir = final.Last(i => i.Keyword == "WORKDIR").Arguments;
        var copy = Assert.Single(final.Where(i => i.Keyword == "COPY").Select(Dockerfile.ParseCopy),
            c => Path.GetFullPath(c.Destination, workdir + "/").TrimEnd('/') == KubernetesContract.ClientBinaryFolder);
        var built = copy.Sources.Single().TrimEnd('/');
        var install = Assert.Single(Spec.All("RUN"), r => r.Arguments.Contains($"{built}/$rid/{KubernetesContract.ClientExecutable}", StringComparison.Ordinal));
        Assert.Contains($"-r \"$rid\"", install.Arguments, StringComparison.Ordinal);

        var rids = Assert.Single(Spec.All("ARG"), a => a.Arguments.StartsWith("CLIENT_RIDS=", StringComparison.Ordinal)).Arguments;
        foreach (var rid in KubernetesContract.ClientRids)
        {
            Assert.Contains(rid, rids, StringComparison.Ordinal);
        }

        Assert.Contains($"<AssemblyName>{KubernetesContract.ClientExecutable}</AssemblyName>", RepositoryRoot.Read("Synapse.Client", "Synapse.Client.csproj"), StringComparison.Ordinal);
    }

    /// <summary>ENV instructions of a stage, in both KEY=value forms ours uses.</summary>
    private static Dictionary<string, string> Environment(IEnumerable<Dockerfile.Instruction> stage) =>
        stage.Where(i => i.Keyword == "ENV")
            .SelectMany(i => EnvPair().Matches(i.Arguments))
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim('"'));

    /// <summary>Project references of a project, as repository-relative paths.</summary>
    private static IEnumerable<string> ReferencedProjects(string project)
    {
        var pending = new Stack<string>([project]);
        var seen = new HashSet<string>();
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            var folder = Path.GetDirectoryName(current)!;
            foreach (Match m in ProjectReference().Matches(RepositoryRoot.Read(current.Split('/'))))
            {
                var relative = Path.GetRelativePath(RepositoryRoot.Path, Path.GetFullPath(Path.Combine(RepositoryRoot.Path, folder, m.Groups[1].Value.Replace('\\', '/'))));
                pending.Push(relative.Replace('\\', '/'));
            }
        }

        return seen;
    }

    [GeneratedRegex(@"dotnet (?:restore|publish) (\S+\.csproj)")]
    private static partial Regex DotnetProject();

    [GeneratedRegex(@"ProjectReference Include=""([^""]+)""")]
    private static partial Regex ProjectReference();

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=(""[^""]*""|\S*)")]
    private static partial Regex EnvPair();
}
