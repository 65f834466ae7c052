using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Synapse.Tests.Infrastructure;
using Synapse.Tests.Observability;

namespace Synapse.Tests.EndToEnd;

/// <summary>
/// Every stream's tokens are counted, whether its caller asked for usage or not, and a caller that did not ask gets
/// exactly the bytes the upstream would have sent it: compared with the same call made to the upstream directly.
/// </summary>
[Collection(GatewayCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class StreamUsageTests(GatewayFixture fixture)
{
    private TestGateway Gateway => fixture.Gateway;

    [Theory]
    [InlineData("/v1/chat/completions", false)]
    [InlineData("/v1/chat/completions", true)]
    [InlineData("/v1/completions", false)]
    public async Task StreamWithoutUsageAsked_ReachesTheCallerByteForByte_AndIsCounted(string path, bool nullUsageChunks)
    {
        var model = GatewayFixture.UniqueModel("counted");
        await using var upstream = await FakeUpstream.StartAsync("u", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        var body = $$"""{"model":"{{model}}","stream":true,"max_tokens":7}""";
        (string, string)[] headers = nullUsageChunks ? [("X-Fake-Usage-Null", "1")] : [];

        var direct = await SendAsync(new HttpClient { BaseAddress = new Uri(upstream.Url) }, path, body, tokens: 7, headers);
        using var client = Gateway.CreateClient();
        var through = await SendAsync(client, path, body, tokens: 7, headers);

        Assert.Equal(direct, through);
        Assert.DoesNotContain("\"usage\"", through, StringComparison.Ordinal);
        var upstreamSaw = upstream.Requests.Last(r => r.Path == path);
        using (var sent = JsonDocument.Parse(upstreamSaw.Body))
        {
            Assert.True(sent.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
            Assert.Equal(7, sent.RootElement.GetProperty("max_tokens").GetInt32());
        }

        await UntilCountedAsync(client, model, outputTokens: 7, requests: 1);
    }

    [Fact]
    public async Task StreamWithUsageAsked_PassesTheUsageEventThrough_AndIsCounted()
    {
        var model = GatewayFixture.UniqueModel("counted");
        await using var upstream = await FakeUpstream.StartAsync("u", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        var body = $$$"""{"model":"{{{model}}}","stream":true,"stream_options":{"include_usage":true}}""";

        var direct = await SendAsync(new HttpClient { BaseAddress = new Uri(upstream.Url) }, "/v1/chat/completions", body, tokens: 9, [("X-Fake-Usage-Null", "1")]);
        using var client = Gateway.CreateClient();
        var through = await SendAsync(client, "/v1/chat/completions", body, tokens: 9, [("X-Fake-Usage-Null", "1")]);

        Assert.Equal(direct, through);
        Assert.Contains("\"completion_tokens\":9", through, StringComparison.Ordinal);
        Assert.Equal(body, upstream.Requests.Last().Body);
        await UntilCountedAsync(client, model, outputTokens: 9, requests: 1);
    }

    [Fact]
    public async Task UpstreamIgnoringStreamOptions_StreamIsUnchanged_AndCountedWithoutTokens()
    {
        var model = GatewayFixture.UniqueModel("counted");
        await using var upstream = await FakeUpstream.StartAsync("u", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        var body = $$"""{"model":"{{model}}","stream":true}""";

        var direct = await SendAsync(new HttpClient { BaseAddress = new Uri(upstream.Url) }, "/v1/chat/completions", body, tokens: 4, []);
        using var client = Gateway.CreateClient();
        var through = await SendAsync(client, "/v1/chat/completions", body, tokens: 4, [("X-Fake-Ignore-Stream-Options", "1")]);

        Assert.Equal(direct, through);
        await UntilCountedAsync(client, model, outputTokens: 0, requests: 1);
    }

    [Fact]
    public async Task CallerLeavingMidStream_IsCountedAsARequest_AndTheGatewayGoesOn()
    {
        var model = GatewayFixture.UniqueModel("counted");
        await using var upstream = await FakeUpstream.StartAsync("u", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        using var client = Gateway.CreateClient();

        using (var stream = await ChatCalls.StreamAsync(client, model, tokens: 200, delayMs: 20))
        {
            using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
            Assert.StartsWith("data:", await reader.ReadLineAsync());
        }

        await UntilCountedAsync(client, model, outputTokens: 0, requests: 1);
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
    }

    private static async Task<string> SendAsync(HttpClient client, string path, string body, int tokens, (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Fake-Tokens", tokens.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
    }

    private static Task UntilCountedAsync(HttpClient client, string model, long outputTokens, long requests) =>
        Eventually.UntilAsync(
            async () =>
            {
                var history = await StatusHistoryTests.GetAsync(client, $"/status/history?model={model}");
                return StatusHistoryTests.Sum(history, "requests") == requests && StatusHistoryTests.Sum(history, "outputTokens") == outputTokens;
            },
            TimeSpan.FromSeconds(10),
            $"{requests} call(s) and {outputTokens} output tokens are counted for {model}");
}
