using System.Net.Http.Headers;
using Synapse.Protocol.Frames;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// Model ids come from agents and are echoed in JSON answers; a browser must never sniff such an answer into HTML.
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ContentSniffingTests(HostileFixture fixture)
{
    [Theory]
    [InlineData("/v1/models", null)]
    [InlineData("/v1/models/no-such-model", null)]
    [InlineData("/v1/no/such/route", null)]
    [InlineData("/status", "application/json")]
    [InlineData("/version", "application/json")]
    [InlineData("/healthz", null)]
    public async Task JsonAnswer_CarriesNoSniff(string path, string? accept)
    {
        using var client = fixture.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        }

        using var response = await client.SendAsync(request);

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task ModelIdCarryingMarkup_IsListedAsJsonThatNoBrowserSniffs()
    {
        var model = "<script>alert(1)</script>-" + Guid.NewGuid().ToString("N")[..6];
        await using var raw = await fixture.ConnectRawAgentAsync();
        await raw.SendHelloAsync(RawAgent.Hello("markup-" + Guid.NewGuid().ToString("N")[..6]) with
        {
            Models = [new Protocol.Messages.ModelAdvert(model, System.Text.Json.JsonDocument.Parse("{}").RootElement)],
        });
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));
        await TestAgent.WaitForModelAsync(fixture.Gateway, model, 1);
        using var client = fixture.CreateClient();

        using var response = await client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Contains(model, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
