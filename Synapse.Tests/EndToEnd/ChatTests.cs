using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

[Collection(GatewayCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ChatTests(GatewayFixture fixture)
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task ChatCompletion_ThroughOpenAISdk_ReturnsTheUpstreamAnswer()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        var client = new ChatClient(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseUrl + "/v1") });
        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Hello!")]);

        Assert.Equal("tok0 tok1 tok2 tok3 tok4 ", completion.Content[0].Text);
        Assert.Equal(5, completion.Usage.OutputTokenCount);
        var received = Assert.Single(upstream.Requests);
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Contains("Hello!", received.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletion_StreamedThroughOpenAISdk_DeliversEveryToken()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        var client = new ChatClient(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseUrl + "/v1") });
        var text = new StringBuilder();
        var updates = 0;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream please")]))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("tok0 tok1 tok2 tok3 tok4 ", text.ToString());
        Assert.True(updates >= 5, $"expected one update per token, got {updates}");
    }

    [Fact]
    public async Task ChatStream_RawHttp_IsByteForByteTheUpstreamStreamAndUnbuffered()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        var body = $$"""{"model":"{{model}}","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""";

        var direct = await PostAsync(upstream.Url, body, tokens: 12);
        using var viaGateway = Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Fake-Tokens", "12");
        using var response = await viaGateway.SendAsync(request);
        var proxied = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        Assert.Equal(direct, proxied);
        Assert.EndsWith("data: [DONE]\n\n", Encoding.UTF8.GetString(proxied), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatStream_SlowTokens_ArriveOneByOneAsTheUpstreamSendsThem()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}","stream":true}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Fake-Tokens", "4");
        request.Headers.Add("X-Fake-Delay-Ms", "300");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var reader = new SseReader(stream);

        // The first token must arrive while the upstream is still generating the rest (no buffering anywhere).
        var first = await reader.NextDataAsync();
        Assert.Contains("tok0", first, StringComparison.Ordinal);
        Assert.Contains(upstream.Requests, r => !r.Completed);
        var rest = await reader.ReadAllDataAsync();
        Assert.Equal("[DONE]", rest[^1]);
    }

    [Fact]
    public async Task Completions_RawHttp_PassesThroughUnchanged()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        var body = $$"""{"model":"{{model}}","prompt":"Once upon"}""";

        var direct = await PostAsync(upstream.Url, body, tokens: 3, path: "/v1/completions");
        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Fake-Tokens", "3");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(direct, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Embeddings_ThroughOpenAISdk_ReturnsVectors()
    {
        var model = GatewayFixture.UniqueModel("embed");
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        var client = new EmbeddingClient(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseUrl + "/v1") });
        OpenAIEmbeddingCollection embeddings = await client.GenerateEmbeddingsAsync(["one", "two"]);

        Assert.Equal(2, embeddings.Count);
        Assert.Equal(0.2f, embeddings[1].ToFloats().Span[0], 3);
    }

    [Fact]
    public async Task AnyV1Post_NamingAModel_IsForwardedWithPathAndQueryIntact()
    {
        var model = GatewayFixture.UniqueModel("rerank");
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        using var client = Gateway.CreateClient();
        using var response = await client.PostAsync(
            new Uri("/v1/rerank?top_n=2&x=a%20b", UriKind.Relative),
            new StringContent($$"""{"model":"{{model}}","query":"q","documents":["a","b"]}""", Encoding.UTF8, "application/json"));
        var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/v1/rerank", echo.GetProperty("path").GetString());
        Assert.Equal("?top_n=2&x=a%20b", echo.GetProperty("query").GetString());
        Assert.Contains("\"documents\"", echo.GetProperty("body").GetString(), StringComparison.Ordinal);
    }

    private static async Task<byte[]> PostAsync(string baseUrl, string body, int tokens, string path = "/v1/chat/completions")
    {
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Fake-Tokens", tokens.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await client.SendAsync(request);
        return await response.Content.ReadAsByteArrayAsync();
    }
}
