using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Tenancy;

/// <summary>
/// Two silos in one cluster reading one key-groups file, and two groups with two agents each, one per silo, so
/// every path between a caller and an agent is crossed: the same model name (<see cref="Shared"/>) in both
/// groups, a model each group alone serves, and agent ids that collide across the groups (alpha's and beta's
/// first agents are both <c>box-1</c>, on different silos; <c>box-2</c> is alpha's alone).
/// </summary>
public sealed class KeyGroupClusterFixture : IAsyncLifetime
{
    public const string AlphaKey = "sekret-api-alpha";
    public const string AlphaNarrowKey = "sekret-api-alpha-narrow";
    public const string BetaKey = "sekret-api-beta";
    public const string AdminKey = "sekret-admin";
    public const string AlphaAgentKey = "sekret-ws-alpha";
    public const string BetaAgentKey = "sekret-ws-beta";
    public const string Shared = "shared-model";
    public const string AlphaOnly = "alpha-only";
    public const string BetaOnly = "beta-only";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("synapse-groups-");
    private readonly List<IAsyncDisposable> _owned = [];

    public TestGateway First { get; private set; } = null!;

    public TestGateway Second { get; private set; } = null!;

    public IReadOnlyList<TestGateway> Silos => [First, Second];

    /// <summary>Upstreams by group: [0] behind the agent on the first silo, [1] behind the one on the second.</summary>
    public FakeUpstream[] Alpha { get; } = new FakeUpstream[2];

    public FakeUpstream[] Beta { get; } = new FakeUpstream[2];

    public TestAgent[] AlphaAgents { get; } = new TestAgent[2];

    public TestAgent[] BetaAgents { get; } = new TestAgent[2];

    public async Task InitializeAsync()
    {
        var file = Path.Combine(_folder.FullName, "groups.yaml");
        await File.WriteAllTextAsync(file, $"""
            admin_keys: [{AdminKey}]
            groups:
              - name: alpha
                ws_auth_keys: [{AlphaAgentKey}]
                api_keys:
                  - {AlphaKey}
                  - name: alpha-narrow
                    key: {AlphaNarrowKey}
                    models: ["shared-*"]
              - name: beta
                ws_auth_keys: [{BetaAgentKey}]
                api_keys: [{BetaKey}]

            """);
        var settings = new Dictionary<string, string?>
        {
            ["Synapse:Tenancy:ConfigFile"] = file,
            ["Synapse:Tenancy:ReloadOnSignal"] = "false",
        };
        First = await TestGateway.StartAsync(settings);
        Second = await TestGateway.StartAsync(settings, join: First);
        await Eventually.UntilAsync(() => First.ActiveSiloCount() == 2 && Second.ActiveSiloCount() == 2, TimeSpan.FromSeconds(30), "both silos see each other");

        for (var i = 0; i < 2; i++)
        {
            Alpha[i] = await FakeUpstream.StartAsync($"alpha-{i + 1}", Shared, AlphaOnly);
            Beta[i] = await FakeUpstream.StartAsync($"beta-{i + 1}", Shared, BetaOnly);
            _owned.Add(Alpha[i]);
            _owned.Add(Beta[i]);
        }

        // alpha's box-1 on the first silo, beta's box-1 on the second; alpha's box-2 on the second, beta's beta-box-2 on the first.
        AlphaAgents[0] = StartAgent(First, Alpha[0], AlphaAgentKey, "box-1");
        AlphaAgents[1] = StartAgent(Second, Alpha[1], AlphaAgentKey, "box-2");
        BetaAgents[0] = StartAgent(Second, Beta[0], BetaAgentKey, "box-1");
        BetaAgents[1] = StartAgent(First, Beta[1], BetaAgentKey, "beta-box-2");
        foreach (var agent in AlphaAgents.Concat(BetaAgents))
        {
            await agent.WaitConnectedAsync();
        }

        await Eventually.UntilAsync(
            async () => (await First.SnapshotAsync(Shared, "alpha")).Instances.Length == 2 && (await First.SnapshotAsync(Shared, "beta")).Instances.Length == 2,
            TimeSpan.FromSeconds(20),
            "both groups' shared model has its two instances");
    }

    public async Task DisposeAsync()
    {
        foreach (var agent in AlphaAgents.Concat(BetaAgents).Where(a => a is not null))
        {
            await agent.DisposeAsync();
        }

        await Second.DisposeAsync();
        await First.DisposeAsync();
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        _folder.Delete(recursive: true);
    }

    private TestAgent StartAgent(TestGateway silo, FakeUpstream upstream, string key, string agentId) =>
        TestAgent.Start(silo.WsUrl, upstream, o =>
        {
            o.WsAuthKey = key;
            o.AgentId = agentId;
            o.Name = $"{upstream.Name}";
        });
}
