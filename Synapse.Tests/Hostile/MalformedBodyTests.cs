using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// Bodies the gateway must refuse itself, in OpenAI's error shape, before anything reaches a grain or an agent:
/// truncated or invalid JSON, invalid UTF-8, nesting bombs, a <c>model</c> of the wrong type or size, content
/// types it cannot read. (Plain malformed JSON and a numeric model are in EndToEnd/ErrorTests.)
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class MalformedBodyTests(HostileFixture fixture)
{
    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hel""")]
    [InlineData("""{"model":"m\""")]
    [InlineData("""{"model":"m",""")]
    [InlineData("""{"mod""")]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("   \r\n ")]
    [InlineData("""{"model":"m",}""")]
    [InlineData("""{'model':'m'}""")]
    [InlineData("""{"model":"m"/* comment */}""")]
    [InlineData("{\"model\":\"m\"}\u0000")]
    public async Task Post_TruncatedOrMalformedJson_Answers400InvalidJson(string body)
    {
        var (status, code) = await PostAsync(Encoding.UTF8.GetBytes(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_json", code);
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData("{\"model\":\"", new byte[] { 0xFF }, "\"}")]
    [InlineData("{\"model\":\"", new byte[] { 0xC0, 0xAF }, "\"}")]
    [InlineData("{\"model\":\"", new byte[] { 0xED, 0xA0, 0x80 }, "\"}")]
    [InlineData("{\"model\":\"m\",\"x\":\"", new byte[] { 0xE2, 0x82 }, "\"}")]
    [InlineData("{\"model\":\"m\",\"messages\":\"", new byte[] { 0xFE, 0xFE }, "\"}")]
    public async Task Post_InvalidUtf8_Answers400InvalidJson(string before, byte[] invalid, string after)
    {
        var (status, code) = await PostAsync([.. Encoding.UTF8.GetBytes(before), .. invalid, .. Encoding.UTF8.GetBytes(after)]);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_json", code);
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData("[", "]", true)]
    [InlineData("{\"a\":", "}", true)]
    [InlineData("[", "]", false)]
    public async Task Post_DeeplyNestedJson_Answers400WithoutRecursing(string open, string close, bool insideObject)
    {
        const int Depth = 100_000;
        var nested = string.Concat(Enumerable.Repeat(open, Depth)) + "1" + string.Concat(Enumerable.Repeat(close, Depth));
        var body = insideObject ? $$"""{"model":"{{fixture.Model}}","x":{{nested}}}""" : nested;

        var (status, code) = await PostAsync(Encoding.UTF8.GetBytes(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_json", code);
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData("""{"model":null}""", "invalid_model")]
    [InlineData("""{"model":{"id":"x"}}""", "invalid_model")]
    [InlineData("""{"model":["x"]}""", "invalid_model")]
    [InlineData("""{"model":true}""", "invalid_model")]
    [InlineData("""{"model":"ok","model":42}""", "invalid_model")]
    [InlineData("""{"model":"a\u0000b"}""", "invalid_model")]
    [InlineData("""{"model":"line\nbreak"}""", "invalid_model")]
    [InlineData("""{"model":"\uD800"}""", "invalid_json")]
    public async Task Post_ModelNotAUsableString_Answers400(string body, string expected)
    {
        var (status, code) = await PostAsync(Encoding.UTF8.GetBytes(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(expected, code);
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData("x", 10 * 1024)]
    [InlineData("é", 5 * 1024)]
    [InlineData("x", 513)]
    public async Task Post_ModelOf10KB_Answers400AndNeverEchoesIt(string unit, int count)
    {
        var model = string.Concat(Enumerable.Repeat(unit, count));

        using var client = fixture.CreateClient();
        using var response = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), JsonBody($$"""{"model":"{{model}}"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_model", await Json.ReadErrorCodeAsync(response));
        Assert.True((await response.Content.ReadAsStringAsync()).Length < 1024, "the error stays small");
        Assert.DoesNotContain(model, fixture.Gateway.Log.All, StringComparison.Ordinal);
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData("text/plain", "model=m", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type")]
    [InlineData("application/xml", "<model>m</model>", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type")]
    [InlineData("application/octet-stream", "hello", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type")]
    [InlineData("multipart/form-data", "model=m", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type")]
    [InlineData("image/png", "\u0089PNG", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type")]
    public async Task Post_WrongContentType_Answers415(string contentType, string body, HttpStatusCode expected, string expectedCode)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var client = fixture.CreateClient();
        using var response = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), content);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expectedCode, await Json.ReadErrorCodeAsync(response));
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Post_MultipartThatIsNotMultipart_Answers400()
    {
        var content = new ByteArrayContent("--not-the-boundary\r\ngarbage without end"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=xyz");

        using var client = fixture.CreateClient();
        using var response = await client.PostAsync(new Uri("/v1/audio/transcriptions", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(await Json.ReadErrorCodeAsync(response), new[] { "invalid_body", "missing_model" });
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Post_MultipartOrFormWith10KBModel_Answers400InvalidModel()
    {
        var model = new string('m', 10 * 1024);
        using var multipart = new MultipartFormDataContent { { new StringContent(model), "model" }, { new ByteArrayContent([1, 2, 3]), "file", "a.wav" } };
        using var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("model", model)]);

        using var client = fixture.CreateClient();
        using var fromMultipart = await client.PostAsync(new Uri("/v1/audio/transcriptions", UriKind.Relative), multipart);
        using var fromForm = await client.PostAsync(new Uri("/v1/audio/transcriptions", UriKind.Relative), form);

        Assert.Equal(HttpStatusCode.BadRequest, fromMultipart.StatusCode);
        Assert.Equal("invalid_model", await Json.ReadErrorCodeAsync(fromMultipart));
        Assert.Equal(HttpStatusCode.BadRequest, fromForm.StatusCode);
        Assert.Equal("invalid_model", await Json.ReadErrorCodeAsync(fromForm));
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Post_FloodOfUnknownModelNames_Answers404AndMemoryStaysFlat()
    {
        using var client = fixture.CreateClient();
        await ManagedMemory.AssertBoundedAsync(
            async round =>
            {
                for (var batch = 0; batch < 10; batch++)
                {
                    var calls = Enumerable.Range(0, 50).Select(async i =>
                    {
                        var model = $"nobody-{round}-{batch}-{i}-{Guid.NewGuid():N}{new string('z', 400)}";
                        using var response = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), JsonBody($$"""{"model":"{{model}}"}"""));
                        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                        Assert.Equal("model_not_found", await Json.ReadErrorCodeAsync(response));
                    });
                    await Task.WhenAll(calls);
                }
            },
            rounds: 10);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Post_MalformedBodyWithAPrompt_LogSaysWhatWasRefusedButNotThePromptNorTheKey()
    {
        const string Prompt = "my-distinctive-secret-prompt-0c9f";
        var body = $$"""{"model":"{{fixture.Model}}","messages":[{"role":"user","content":"{{Prompt}}"}""";

        var (status, code) = await PostAsync(Encoding.UTF8.GetBytes(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_json", code);
        Assert.Contains(fixture.Gateway.Log.Lines, l => l.Contains("invalid_json", StringComparison.Ordinal) && l.Contains("/v1/chat/completions", StringComparison.Ordinal));
        fixture.AssertLogsFreeOf(Prompt);
        await fixture.StillServesAsync();
    }

    private async Task<(HttpStatusCode Status, string Code)> PostAsync(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var client = fixture.CreateClient();
        using var response = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), content);
        return (response.StatusCode, await Json.ReadErrorCodeAsync(response));
    }

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");
}
