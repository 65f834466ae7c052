using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

/// <summary>A gateway whose model grains drop a socket not refreshed within 2 s, refreshing every 0.5 s.</summary>
public sealed class ShortLeaseFixture : IAsyncLifetime
{
    public TestGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
    {
        ["Synapse:Balancing:RegistrationTtl"] = "00:00:02",
        ["Synapse:Agents:RegistrationRefreshInterval"] = "00:00:00.500",
    });

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

/// <summary>
/// Registrations are leases the silo refreshes for all its sockets at once (one call per model grain): idle agents
/// stay listed for as long as their sockets live, and a withdrawn model is never brought back by a refresh.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class RegistrationRefreshTests(ShortLeaseFixture fixture) : IClassFixture<ShortLeaseFixture>
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task IdleAgents_StayRegistered_LongAfterTheirLeaseWouldHaveRunOut()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u", model);
        var agents = new List<TestAgent>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                agents.Add(TestAgent.Start(Gateway.WsUrl, upstream));
            }

            await TestAgent.WaitForModelAsync(Gateway, model, 3);
            var connected = DateTimeOffset.UtcNow;

            // Three lease lengths without a call: every instance must have been refreshed meanwhile, more than once.
            await Eventually.UntilAsync(
                async () => (await Gateway.SnapshotAsync(model)).Instances.All(i => i.LastRefresh > connected.AddSeconds(6)),
                TimeSpan.FromSeconds(20),
                "every idle instance refreshed six seconds on");
            Assert.Equal(3, (await Gateway.SnapshotAsync(model)).Instances.Length);
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ModelTheUpstreamStopsServing_IsWithdrawn_AndNoRefreshBringsItBack()
    {
        var kept = GatewayFixture.UniqueModel();
        var dropped = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u", kept, dropped);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, dropped);

        upstream.SetModels(kept);
        await Eventually.UntilAsync(async () => (await Gateway.SnapshotAsync(dropped)).Instances.Length == 0, TimeSpan.FromSeconds(10), "the dropped model is withdrawn");

        // Ten refresh rounds later: still gone, and the kept model still served.
        var withdrawn = DateTimeOffset.UtcNow;
        await Eventually.UntilAsync(
            async () => (await Gateway.SnapshotAsync(kept)).Instances.SingleOrDefault()?.LastRefresh > withdrawn.AddSeconds(5),
            TimeSpan.FromSeconds(20),
            "the kept model refreshed five seconds on");
        Assert.Empty((await Gateway.SnapshotAsync(dropped)).Instances);
    }
}
