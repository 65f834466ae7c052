namespace Synapse.Tests.Infrastructure;

/// <summary>One gateway shared by a collection of tests; each test uses its own model names and agents.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public TestGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
    {
        ["Synapse:Gateway:MaxRequestBodyBytes"] = "1048576",
        ["Synapse:Agents:HeartbeatInterval"] = "00:00:01",
        ["Synapse:Agents:HeartbeatTimeout"] = "00:00:03",
        ["Synapse:Balancing:ReconnectGrace"] = "00:00:01",

        // Every test here makes models of its own, hundreds in a run: the charts' default of 32 would be spent early.
        ["Synapse:History:MaxModels"] = "1000",
        ["Synapse:Balancing:Affinity:DisabledModels:0"] = AffinityOffModel,
    });

    /// <summary>The one model of this gateway balanced without prefix affinity.</summary>
    public const string AffinityOffModel = "affinity-off";

    public async Task DisposeAsync() => await Gateway.DisposeAsync();

    /// <summary>A model name no other test uses.</summary>
    public static string UniqueModel(string prefix = "model") => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
