using System.Diagnostics;
using System.Net;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

[Collection(GatewayCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class FlowControlTests(GatewayFixture fixture)
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task CallerThatStopsReading_AndHungUpstreamRequest_DoNotStallOthersOnTheSameSocket()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        // A stream of ~15 MB whose caller never reads past the headers, and a request the upstream never answers.
        using var slowClient = Gateway.CreateClient();
        using var stuck = await ChatCalls.StreamAsync(slowClient, model, tokens: 100_000, delayMs: 0);
        using var hangClient = Gateway.CreateClient();
        using var hangRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        hangRequest.Headers.Add("X-Fake-Hang", "1");
        var hung = hangClient.SendAsync(hangRequest);
        await Eventually.UntilAsync(() => upstream.Active >= 2, TimeSpan.FromSeconds(5), "both troublesome requests reached the upstream");

        using var client = Gateway.CreateClient();
        var elapsed = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
        }

        elapsed.Stop();
        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(10), $"20 requests took {elapsed.Elapsed.TotalSeconds:0.0} s beside a stalled stream");
        Assert.False(hung.IsCompleted);
        var stalled = upstream.Requests.Single(r => r.Tokens == 100_000);
        Assert.False(stalled.Completed, "the upstream of the unread stream is held back by flow control, not run to the end");
    }

    [Fact]
    public async Task UpstreamGoesDown_ItsModelsAreWithdrawnWithinADiscoveryPeriod()
    {
        var model = GatewayFixture.UniqueModel();
        var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        await upstream.DisposeAsync();

        using var client = Gateway.CreateClient();
        await Eventually.UntilAsync(
            async () => (await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative))).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(5),
            "the model of the dead upstream is withdrawn");
        Assert.Equal(1, agent.App.ConnectedCount);
    }
}
