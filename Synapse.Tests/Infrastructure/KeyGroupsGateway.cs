namespace Synapse.Tests.Infrastructure;

/// <summary>
/// A gateway started with a key-groups file, and one agent serving <see cref="Model"/> in the group of
/// <c>agentKey</c>: the setting the key-group, usage and limit tests share.
/// </summary>
public sealed class KeyGroupsGateway : IAsyncDisposable
{
    private readonly DirectoryInfo _folder;

    private KeyGroupsGateway(DirectoryInfo folder, TestGateway gateway, FakeUpstream upstream, TestAgent agent, string model)
    {
        _folder = folder;
        Gateway = gateway;
        Upstream = upstream;
        Agent = agent;
        Model = model;
    }

    public TestGateway Gateway { get; }

    public FakeUpstream Upstream { get; }

    public TestAgent Agent { get; }

    public string Model { get; }

    /// <summary>Starts it and waits until <paramref name="model"/> is served in <paramref name="group"/>.</summary>
    /// <param name="settings">Extra gateway configuration keys (e.g. <c>Synapse:Balancing:MaxQueueLength</c>).</param>
    public static async Task<KeyGroupsGateway> StartAsync(
        string yaml,
        string model,
        string group,
        string agentKey,
        Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null,
        int agentConcurrency = 64,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var folder = Directory.CreateTempSubdirectory("synapse-groups-");
        var file = Path.Combine(folder.FullName, "groups.yaml");
        await File.WriteAllTextAsync(file, yaml);
        var config = new Dictionary<string, string?> { ["Synapse:Tenancy:ConfigFile"] = file, ["Synapse:Tenancy:ReloadOnSignal"] = "false" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var gateway = await TestGateway.StartAsync(config, configure: configure);
        var upstream = await FakeUpstream.StartAsync(group, model);
        var agent = TestAgent.Start(gateway.WsUrl, upstream, o =>
        {
            o.WsAuthKey = agentKey;
            o.MaxConcurrency = agentConcurrency;
        });
        await agent.WaitConnectedAsync();
        await Eventually.UntilAsync(async () => (await gateway.SnapshotAsync(model, group)).Instances.Length == 1, TimeSpan.FromSeconds(20), $"{model} is served in {group}");
        return new KeyGroupsGateway(folder, gateway, upstream, agent, model);
    }

    public async ValueTask DisposeAsync()
    {
        await Agent.DisposeAsync();
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
        _folder.Delete(recursive: true);
    }
}
