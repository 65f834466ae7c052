using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Cluster;

/// <summary>Two gateway silos in one cluster (development clustering), each with its own Kestrel port.</summary>
public sealed class TwoSiloFixture : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Synapse:Agents:HeartbeatInterval"] = "00:00:01",
        ["Synapse:Agents:HeartbeatTimeout"] = "00:00:03",
        ["Synapse:Balancing:ReconnectGrace"] = "00:00:01",
    };

    /// <summary>Where callers arrive.</summary>
    public TestGateway A { get; private set; } = null!;

    /// <summary>Where agents attach.</summary>
    public TestGateway B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        A = await TestGateway.StartAsync(Settings);
        B = await TestGateway.StartAsync(Settings, join: A);
        await Eventually.UntilAsync(
            () => A.ActiveSiloCount() == 2 && B.ActiveSiloCount() == 2,
            TimeSpan.FromSeconds(30),
            "both silos see each other");
    }

    public async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class TwoSiloCollection : ICollectionFixture<TwoSiloFixture>
{
    public const string Name = "two silos";
}
