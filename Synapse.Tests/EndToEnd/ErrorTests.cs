using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

[Collection(GatewayCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ErrorTests(GatewayFixture fixture)
{
    private TestGateway Gateway => fixture.Gateway;

    [Theory]
    [InlineData("{\"model\":", "invalid_json")]
    [InlineData("not json at all", "invalid_json")]
    [InlineData("[1,2,3]", "invalid_json")]
    [InlineData("{\"messages\":[]}", "missing_model")]
    [InlineData("{\"model\":42}", "invalid_model")]
    [InlineData("{\"model\":\"\"}", "invalid_model")]
    [InlineData("{\"model\":\"a\"} {\"model\":\"b\"}", "invalid_json")]
    public async Task Post_BadBody_Answers400WithOpenAIError(string body, string code)
    {
        using var client = Gateway.CreateClient();
        using var response = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, await Json.ReadErrorCodeAsync(response));
    }

    [Fact]
    public async Task Post_UnknownModel_Answers404ModelNotFound()
    {
        using var client = Gateway.CreateClient();
        using var response = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), Body("""{"model":"nobody-serves-this"}"""));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("model_not_found", await Json.ReadErrorCodeAsync(response));
    }

    [Fact]
    public async Task Post_BodyOverLimitWithContentLength_Answers413()
    {
        using var client = Gateway.CreateClient();
        var huge = "{\"model\":\"m\",\"pad\":\"" + new string('x', 2 * 1024 * 1024) + "\"}";
        using var response = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), Body(huge));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", await Json.ReadErrorCodeAsync(response));
    }

    [Fact]
    public async Task Post_ChunkedBodyOverLimit_Answers413()
    {
        using var client = Gateway.CreateClient();
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"model\":\"m\",\"pad\":\"" + new string('x', 2 * 1024 * 1024) + "\"}")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", await Json.ReadErrorCodeAsync(response));
    }

    [Theory]
    [InlineData("GET", "/v1/chat/completions", "POST")]
    [InlineData("PUT", "/v1/embeddings", "POST")]
    [InlineData("POST", "/v1/models", "GET")]
    [InlineData("DELETE", "/v1/models/x", "GET")]
    public async Task WrongMethod_Answers405WithAllow(string method, string path, string allow)
    {
        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
        {
            request.Content = Body("{}");
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains(allow, response.Content.Headers.Allow);
        Assert.Equal("method_not_allowed", await Json.ReadErrorCodeAsync(response));
    }

    [Fact]
    public async Task UnknownPath_Answers404Json()
    {
        using var client = Gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("/nothing/here", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", await Json.ReadErrorCodeAsync(response));
    }

    [Fact]
    public async Task Post_ModelWhoseOnlyAgentLeft_Answers503NoLiveInstance()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await agent.DisposeAsync();

        using var client = Gateway.CreateClient();
        using var response = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), Body($$"""{"model":"{{model}}"}"""));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("no_live_instance", await Json.ReadErrorCodeAsync(response));
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Post_UpstreamUnreachable_Answers502()
    {
        var model = GatewayFixture.UniqueModel();
        var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o => o.DiscoveryInterval = TimeSpan.FromMinutes(5));
        await upstream.DisposeAsync();

        using var client = Gateway.CreateClient();
        using var response = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), Body($$"""{"model":"{{model}}"}"""));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_unreachable", await Json.ReadErrorCodeAsync(response));
    }

    [Fact]
    public async Task UpstreamError_KeepsTheUpstreamsStatusAndBody()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body($$"""{"model":"{{model}}"}""") };
        request.Headers.Add("X-Fake-Status", "400");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("fake u1 says 400", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");
}
