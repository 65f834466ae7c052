using System.Text;

namespace Synapse.Tests.Hostile;

/// <summary>
/// Paths and hosts shaped to slip past the API key, out of <c>/v1</c> on the upstream, or into the install script.
/// (More hostile Host headers on /run are in Install/InstallScriptTests.)
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class PathTrickTests(HostileFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData("GET", "/V1/models")]
    [InlineData("GET", "/v1/../v1/models")]
    [InlineData("GET", "/x/../v1/models")]
    [InlineData("GET", "/v1/./models")]
    [InlineData("GET", "/%76%31/models")]
    [InlineData("GET", "/v1/%2e%2e/v1/models")]
    [InlineData("POST", "/V1/chat/completions")]
    [InlineData("POST", "/v1/../V1/chat/completions")]
    public async Task ApiPathInDisguise_WithoutAKey_IsRefused401(string method, string path)
    {
        var response = await RawHttp.ExchangeAsync(fixture.Gateway, Request(method, path, key: null, body: $$"""{"model":"{{fixture.Model}}"}"""), Timeout);

        Assert.NotNull(response);
        Assert.Equal(401, response.Status);
        Assert.Equal("invalid_api_key", response.ErrorCode);
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData("/v1/chat/completions/..%2F..%2F..%2Fadmin", 400, "invalid_path")]
    [InlineData("/v1/chat%2Fcompletions", 400, "invalid_path")]
    [InlineData("/v1/..%5C..%5Cadmin", 400, "invalid_path")]
    [InlineData("/v1/%252e%252e/%252e%252e/admin", 400, "invalid_path")]
    [InlineData("/v1%2Fchat%2Fcompletions", 404, "not_found")]
    [InlineData("//v1/chat/completions", 404, "not_found")]
    [InlineData("/v1/%2e%2e/%2e%2e/admin", 404, "not_found")]
    public async Task EncodedSlashesAndDotSegments_AreRefusedAndNeverReachTheUpstreamOutsideV1(string path, int status, string code)
    {
        var before = fixture.Upstream.Requests.Count;
        var response = await RawHttp.ExchangeAsync(fixture.Gateway, Request("POST", path, HostileFixture.ApiKey, $$"""{"model":"{{fixture.Model}}"}"""), Timeout);

        Assert.NotNull(response);
        Assert.Equal(status, response.Status);
        Assert.Equal(code, response.ErrorCode);
        foreach (var received in fixture.Upstream.Requests.Skip(before))
        {
            // However lenient the LLM server is (decoding again, backslashes as slashes, then resolving dot
            // segments), whatever did reach it stays under /v1.
            Assert.StartsWith("/v1/", AsALenientServerReadsIt(received.Path), StringComparison.Ordinal);
        }

        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task VeryLongPath_Answers404WithAShortMessage()
    {
        var path = "/" + new string('a', 12 * 1024);
        var response = await RawHttp.ExchangeAsync(fixture.Gateway, Request("GET", path, HostileFixture.ApiKey, body: null), Timeout);

        Assert.NotNull(response);
        Assert.Equal(404, response.Status);
        Assert.Equal("not_found", response.ErrorCode);
        Assert.True(response.Body.Length < 1024, $"the error is {response.Body.Length} bytes");
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task PathOverTheRequestLineLimit_Answers414()
    {
        var path = "/v1/" + new string('a', 20 * 1024);
        var response = await RawHttp.ExchangeAsync(fixture.Gateway, Request("GET", path, HostileFixture.ApiKey, body: null), Timeout);

        Assert.NotNull(response);
        Assert.Equal(414, response.Status);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task PathWithEncodedNul_IsRefused()
    {
        var response = await RawHttp.ExchangeAsync(fixture.Gateway, Request("GET", "/v1/models/a%00b", HostileFixture.ApiKey, body: null), Timeout);

        Assert.NotNull(response);
        Assert.True(response.Status is 400 or 404, $"answered {response.Status}");
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData("$(reboot)")]
    [InlineData("a;b")]
    [InlineData("host>/tmp/x")]
    [InlineData("[::1];id")]
    [InlineData("evil.example:80$IFS")]
    [InlineData("user@evil.example")]
    public async Task Run_HostWithShellMetacharacters_GetsNoInstallerAndIsNotEchoed(string host)
    {
        var response = await RawHttp.ExchangeAsync(fixture.Gateway, $"GET /run HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n", Timeout);

        // Kestrel refuses some of these itself (400, empty body); the rest reach /run, which answers a script that
        // only says the Host header is unusable.
        Assert.NotNull(response);
        Assert.DoesNotContain(host, response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("SYNAPSE_SERVER_URL", response.Body, StringComparison.Ordinal);
        if (response.Status != 400)
        {
            Assert.Equal(200, response.Status);
            Assert.Contains("the gateway cannot tell its own address from the Host header", response.Body, StringComparison.Ordinal);
        }

        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Run_HostOfThreeHundredCharacters_GetsAScriptSayingSo()
    {
        var host = string.Join('.', Enumerable.Repeat(new string('a', 60), 5));
        var response = await RawHttp.ExchangeAsync(fixture.Gateway, $"GET /run HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n", Timeout);

        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.Contains("the gateway cannot tell its own address from the Host header", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(host, response.Body, StringComparison.Ordinal);
        await fixture.StillServesAsync();
    }

    private static string AsALenientServerReadsIt(string path)
    {
        var decoded = Uri.UnescapeDataString(Uri.UnescapeDataString(path)).Replace('\\', '/');
        return new Uri(new Uri("http://upstream"), decoded).AbsolutePath;
    }

    private static string Request(string method, string path, string? key, string? body)
    {
        var text = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if (key is not null)
        {
            text.Append($"Authorization: Bearer {key}\r\n");
        }

        if (body is not null)
        {
            text.Append($"Content-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");
        }
        else
        {
            text.Append("\r\n");
        }

        return text.ToString();
    }
}
