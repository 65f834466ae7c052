using System.Net;
using System.Text.Json;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

[Collection(GatewayCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ModelListingTests(GatewayFixture fixture)
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Models_AgentWithTwoModels_ListsEachOnceWithUpstreamMetadataAndCount()
    {
        var (a, b) = (GatewayFixture.UniqueModel(), GatewayFixture.UniqueModel());
        await using var upstream = await FakeUpstream.StartAsync("u1", a, b);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, a);
        await TestAgent.WaitForModelAsync(Gateway, b, 1);

        using var client = Gateway.CreateClient();
        var list = await Json.ReadAsync(await client.GetAsync(new Uri("/v1/models", UriKind.Relative)));

        Assert.Equal("list", list.GetProperty("object").GetString());
        var ours = list.GetProperty("data").EnumerateArray().Where(m => m.GetProperty("id").GetString() is { } id && (id == a || id == b)).ToArray();
        Assert.Equal(2, ours.Length);
        foreach (var model in ours)
        {
            Assert.Equal("model", model.GetProperty("object").GetString());
            Assert.Equal("fake", model.GetProperty("owned_by").GetString());
            Assert.Equal(4096, model.GetProperty("max_model_len").GetInt32());
            Assert.Equal(1, model.GetProperty("client_count").GetInt32());
        }
    }

    [Fact]
    public async Task Models_TwoAgentsServeOneModel_CountedTwiceKeepingOnlyAgreedMetadata()
    {
        var model = GatewayFixture.UniqueModel();
        await using var first = await FakeUpstream.StartAsync("u1", model);
        await using var second = await FakeUpstream.StartAsync("u2", model);
        second.SetModelMetadata(model, m => m["max_model_len"] = 8192);
        await using var agent1 = await TestAgent.StartServingAsync(Gateway, first, model);
        await using var agent2 = TestAgent.Start(Gateway.WsUrl, second);
        await TestAgent.WaitForModelAsync(Gateway, model, 2);

        using var client = Gateway.CreateClient();
        var entry = await Json.ReadAsync(await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative)));

        Assert.Equal(2, entry.GetProperty("client_count").GetInt32());
        Assert.Equal("fake", entry.GetProperty("owned_by").GetString());
        Assert.False(entry.TryGetProperty("max_model_len", out _), "instances disagree on max_model_len, so it is dropped");
    }

    [Fact]
    public async Task Models_UpstreamAddsAndRemovesAModel_ListingFollowsWithinADiscoveryPeriod()
    {
        var (kept, added) = (GatewayFixture.UniqueModel(), GatewayFixture.UniqueModel());
        await using var upstream = await FakeUpstream.StartAsync("u1", kept);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, kept);

        upstream.SetModels(kept, added);
        await TestAgent.WaitForModelAsync(Gateway, added, 1);

        upstream.SetModels(added);
        using var client = Gateway.CreateClient();
        await Eventually.UntilAsync(
            async () => (await client.GetAsync(new Uri($"/v1/models/{kept}", UriKind.Relative))).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(10),
            "the removed model is no longer listed");
    }

    [Fact]
    public async Task Models_AgentDisconnects_ItsModelDisappears()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        await agent.DisposeAsync();

        using var client = Gateway.CreateClient();
        await Eventually.UntilAsync(
            async () =>
            {
                var list = await Json.ReadAsync(await client.GetAsync(new Uri("/v1/models", UriKind.Relative)));
                return !list.GetProperty("data").EnumerateArray().Any(m => m.GetProperty("id").GetString() == model);
            },
            TimeSpan.FromSeconds(5),
            "the model of the departed agent is gone");
    }

    [Fact]
    public async Task Model_IdWithSlash_IsFoundByItsFullId()
    {
        var model = "org/" + GatewayFixture.UniqueModel("instruct");
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        using var client = Gateway.CreateClient();
        var entry = await Json.ReadAsync(await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative)));

        Assert.Equal(model, entry.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Model_Unknown_Answers404ModelNotFound()
    {
        using var client = Gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("/v1/models/no-such-model", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("model_not_found", await Json.ReadErrorCodeAsync(response));
    }
}
