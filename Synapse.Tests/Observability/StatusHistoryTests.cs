using System.IO.Compression;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Observability;

/// <summary><c>GET /status/history</c>, the attach guide in <c>GET /status</c>, and how the page and its files are served.</summary>
[Trait("Category", "EndToEnd")]
[Collection(GatewayCollection.Name)]
public sealed partial class StatusHistoryTests(GatewayFixture fixture)
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task StatusPage_Headers_AllowNoInlineScriptOrStyle()
    {
        using var client = Gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        var html = await response.Content.ReadAsStringAsync();

        var directives = csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToDictionary(d => d.Split(' ')[0], d => d);
        Assert.Equal("script-src 'self'", directives["script-src"]);
        Assert.Equal("style-src 'self'", directives["style-src"]);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.Equal("default-src 'none'", directives["default-src"]);
        Assert.DoesNotMatch(InlineScript(), html);
        Assert.DoesNotMatch(InlineHandlerOrStyle(), html);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);

        foreach (var (path, type) in new[] { ("/status.js", "text/javascript"), ("/charts.js", "text/javascript"), ("/status.css", "text/css") })
        {
            using var asset = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
            Assert.Equal("nosniff", Assert.Single(asset.Headers.GetValues("X-Content-Type-Options")));
        }
    }

    [Fact]
    public async Task StatusAssets_Revalidated_AreNotSentAgainAndTravelGzipped()
    {
        using var client = Gateway.CreateClient();
        using var plain = await client.GetAsync(new Uri("/status.js", UriKind.Relative));
        var script = await plain.Content.ReadAsByteArrayAsync();
        var etag = plain.Headers.ETag!.Tag;

        using var again = new HttpRequestMessage(HttpMethod.Get, "/status.js");
        again.Headers.IfNoneMatch.ParseAdd(etag);
        using var notModified = await client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        using var zipped = new HttpRequestMessage(HttpMethod.Get, "/status.js");
        zipped.Headers.AcceptEncoding.ParseAdd("gzip");
        using var gzip = await client.SendAsync(zipped);
        Assert.Equal("gzip", Assert.Single(gzip.Content.Headers.ContentEncoding));
        var compressed = await gzip.Content.ReadAsByteArrayAsync();
        Assert.True(compressed.Length < script.Length / 2);
        await using var unzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var copy = new MemoryStream();
        await unzip.CopyToAsync(copy);
        Assert.Equal(script, copy.ToArray());
    }

    [Fact]
    public async Task History_Since_AnswersOnlyTheSecondsAfterIt()
    {
        using var client = Gateway.CreateClient();
        var whole = await GetAsync(client, "/status/history");
        var to = whole.GetProperty("to").GetInt64();
        Assert.Equal(900, whole.GetProperty("requests").GetArrayLength());
        Assert.Equal(to - 899, whole.GetProperty("from").GetInt64());

        var recent = await GetAsync(client, $"/status/history?since={to - 3}");

        Assert.Equal(to - 2, recent.GetProperty("from").GetInt64());
        var length = recent.GetProperty("requests").GetArrayLength();
        Assert.InRange(length, 3, 8);
        Assert.Equal(recent.GetProperty("to").GetInt64() - to + 3, length);
        foreach (var series in new[] { "errors", "outputTokens", "queue", "timeToFirstTokenP50Ms", "timeToFirstTokenP95Ms" })
        {
            Assert.Equal(length, recent.GetProperty(series).GetArrayLength());
        }

        // The whole window, the page's first load, travels gzipped when the caller takes it.
        using var zipped = new HttpRequestMessage(HttpMethod.Get, "/status/history");
        zipped.Headers.AcceptEncoding.ParseAdd("gzip");
        using var response = await client.SendAsync(zipped);
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        await using var unzip = new GZipStream(await response.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
        Assert.Equal(900, JsonDocument.Parse(unzip).RootElement.GetProperty("requests").GetArrayLength());
    }

    [Fact]
    public async Task History_OneModel_CountsItsCallsTokensAndFailures()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        using var client = Gateway.CreateClient();
        Assert.Equal(200, await ChartTraffic.SendAsync(client, model, stream: true, tokens: 12));
        Assert.Equal(200, await ChartTraffic.SendAsync(client, model, stream: false, tokens: 8));
        Assert.Equal(500, await ChartTraffic.SendAsync(client, model, stream: false, tokens: 8, failWith: 500));

        JsonElement history = default;
        await Eventually.UntilAsync(
            async () => Sum(history = await GetAsync(client, $"/status/history?model={model}"), "requests") == 3,
            TimeSpan.FromSeconds(10),
            "the model's three calls are in its history");

        Assert.Equal(model, history.GetProperty("model").GetString());
        Assert.Contains(model, history.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(1, Sum(history, "errors"));
        Assert.Equal(20, Sum(history, "outputTokens"));
        Assert.Contains(history.GetProperty("timeToFirstTokenP50Ms").EnumerateArray(), v => v.ValueKind == JsonValueKind.Number && v.GetDouble() > 0);
    }

    [Theory]
    [InlineData("since=yesterday", "invalid_since")]
    [InlineData("since=-5", "invalid_since")]
    [InlineData("since=99999999999999999999", "invalid_since")]
    public async Task History_BadSince_IsA400InOpenAIsShape(string query, string code)
    {
        using var client = Gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("/status/history?" + query, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, await Json.ReadErrorCodeAsync(response));
    }

    [Fact]
    public async Task History_ModelNameTooLong_IsA400()
    {
        using var client = Gateway.CreateClient();
        using var response = await client.GetAsync(new Uri("/status/history?model=" + new string('m', 300), UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_model", await Json.ReadErrorCodeAsync(response));
    }

    [Fact]
    public async Task KeyedGatewayBehindAProxy_HistoryNeedsTheKeyAndTheGuideNamesThePublicAddress()
    {
        const string ApiKey = "history-api-key-19c2";
        const string WsKey = "history-ws-key-8e1f";
        await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Gateway:ApiAuthKey"] = ApiKey,
            ["Synapse:Gateway:WsAuthKey"] = WsKey,
            ["Synapse:Gateway:TrustForwardedHeaders"] = "true",
        });
        using var anonymous = gateway.CreateClient();
        using var refused = await anonymous.GetAsync(new Uri("/status/history", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("invalid_api_key", await Json.ReadErrorCodeAsync(refused));
        using var script = await anonymous.GetAsync(new Uri("/status.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode); // the page's files hold no data

        using var client = gateway.CreateClient(ApiKey);
        Assert.Equal(900, (await GetAsync(client, "/status/history")).GetProperty("requests").GetArrayLength());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/status");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "synapse.example.com");
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var attach = JsonDocument.Parse(text).RootElement.GetProperty("attach");

        Assert.Equal("curl -fsSL https://synapse.example.com/run | bash -s -- --upstream http://127.0.0.1:8000 --ws-auth-key '…'", attach.GetProperty("runCommand").GetString());
        Assert.Contains("--server-url wss://synapse.example.com/ws", attach.GetProperty("sourceCommand").GetString(), StringComparison.Ordinal);
        Assert.Equal("https://synapse.example.com/v1", attach.GetProperty("baseUrl").GetString());
        Assert.True(attach.GetProperty("wsKeyRequired").GetBoolean());
        Assert.True(attach.GetProperty("apiKeyRequired").GetBoolean());
        Assert.DoesNotContain(WsKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKey, text, StringComparison.Ordinal);

        // Once an agent is connected the guide is gone.
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = TestAgent.Start(gateway.WsUrl, upstream, o => o.WsAuthKey = WsKey);
        await agent.WaitConnectedAsync();
        await Eventually.UntilAsync(
            async () => !(await GetAsync(client, "/status")).TryGetProperty("attach", out _),
            TimeSpan.FromSeconds(10),
            "the status stops carrying the attach guide");
    }

    internal static async Task<JsonElement> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Json.ReadAsync(response);
    }

    internal static long Sum(JsonElement history, string series) =>
        history.GetProperty(series).EnumerateArray().Where(v => v.ValueKind == JsonValueKind.Number).Sum(v => v.GetInt64());

    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex(@"\s(on[a-z]+|style)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineHandlerOrStyle();
}
