using Synapse.Grains.Relay;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Cluster;

/// <summary>Two gateway silos in one cluster (development clustering), each with its own Kestrel port.</summary>
public class TwoSiloFixture : IAsyncLifetime
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

    /// <summary>The relay transport both silos run with (<c>Synapse:Relay:Transport</c>).</summary>
    public virtual string Transport => new RelayOptions().Transport;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>(Settings) { ["Synapse:Relay:Transport"] = Transport };
        A = await TestGateway.StartAsync(settings);
        B = await TestGateway.StartAsync(settings, join: A);
        await Eventually.UntilAsync(
            () => A.ActiveSiloCount() == 2 && B.ActiveSiloCount() == 2,
            TimeSpan.FromSeconds(30),
            "both silos see each other");
        await WarmUpRelayAsync();
    }

    /// <summary>
    /// One answer from B to a caller on A before any test: the relay's first delivery activates A's inbox grain (and,
    /// on memory streams, registers the stream with its pulling agent), which on a loaded machine can outlast the
    /// 1 s accept timeout that applies while the new cluster settles. Tests then measure the warm path.
    /// </summary>
    private async Task WarmUpRelayAsync()
    {
        var model = GatewayFixture.UniqueModel("warm-up");
        await using var upstream = await FakeUpstream.StartAsync("warm-up", model);
        await using var agent = await TestAgent.StartServingAsync(B, upstream, model, o => o.Connections = 1);
        await TestAgent.WaitForModelAsync(A, model, 1);
        using var client = A.CreateClient();
        using var response = await ChatCalls.PostRawAsync(client, model, tokens: 1, delayMs: 0);
        response.EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}

/// <summary>The same two silos with the memory-stream transport, the relay's other choice.</summary>
public sealed class MemoryStreamsTwoSiloFixture : TwoSiloFixture
{
    public override string Transport => RelayTransports.MemoryStreams;
}

[CollectionDefinition(Name)]
public sealed class TwoSiloCollection : ICollectionFixture<TwoSiloFixture>
{
    public const string Name = "two silos";
}

[CollectionDefinition(Name)]
public sealed class MemoryStreamsTwoSiloCollection : ICollectionFixture<MemoryStreamsTwoSiloFixture>
{
    public const string Name = "two silos, memory streams";
}
