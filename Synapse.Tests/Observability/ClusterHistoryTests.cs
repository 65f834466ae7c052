using System.Text.Json;
using Synapse.Tests.Cluster;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Observability;

/// <summary>The traffic history across two silos: each silo counts the calls that reached it, and either silo answers for both.</summary>
[Trait("Category", "EndToEnd")]
[Collection(TwoSiloCollection.Name)]
public sealed class ClusterHistoryTests(TwoSiloFixture cluster)
{
    [Fact]
    public async Task History_CallsThroughBothSilos_AreSummedWhicheverSiloIsAsked()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = TestAgent.Start(cluster.B.WsUrl, upstream);
        await agent.WaitConnectedAsync();
        await TestAgent.WaitForModelAsync(cluster.A, model, expectedInstances: 1);

        using var viaA = cluster.A.CreateClient();
        using var viaB = cluster.B.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, await ChartTraffic.SendAsync(viaA, model, stream: true, tokens: 4));
        }

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(200, await ChartTraffic.SendAsync(viaB, model, stream: true, tokens: 6));
        }

        foreach (var client in new[] { viaA, viaB })
        {
            JsonElement history = default;
            await Eventually.UntilAsync(
                async () => StatusHistoryTests.Sum(history = await StatusHistoryTests.GetAsync(client, $"/status/history?model={model}"), "requests") == 5,
                TimeSpan.FromSeconds(10),
                "the history counts the calls of both silos");
            Assert.Equal(24, StatusHistoryTests.Sum(history, "outputTokens"));
            Assert.Equal((2, 2), (history.GetProperty("silos").GetInt32(), history.GetProperty("answered").GetInt32()));
        }
    }
}
