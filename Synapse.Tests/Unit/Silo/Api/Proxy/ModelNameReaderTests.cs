using System.Text;
using Synapse.Protocol.Frames;
using Synapse.Silo.Api.Proxy;

namespace Synapse.Tests.Unit.Silo.Api.Proxy;

/// <summary>How the gateway finds the <c>model</c> a request names, in every body shape callers send.</summary>
[Trait("Category", "Unit")]
public sealed class ModelNameReaderTests
{
    private const string Json = "application/json";

    [Theory]
    [InlineData("""{"model":"llama3.1","messages":[]}""", "llama3.1")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"stream":true,"model":"qwen"}""", "qwen")]
    [InlineData(""" { "model" : "org/model:tag" } """, "org/model:tag")]
    [InlineData("""{"model":"caf\u00e9"}""", "café")]
    [InlineData("""{"model":"llama","extra":{"deep":[1,{"model":"other"}]}}""", "llama")]
    public async Task Json_NamingAModel_FindsIt(string body, string expected)
    {
        var result = await ReadAsync(body, Json);

        Assert.True(result.IsFound, result.Message);
        Assert.Equal(expected, result.Model);
    }

    [Fact]
    public async Task Json_ModelOnlyInsideANestedObject_IsMissingNotTheNestedValue()
    {
        var result = await ReadAsync("""{"messages":[{"model":"nested"}],"metadata":{"model":"also-nested"}}""", Json);

        Assert.False(result.IsFound);
        Assert.Equal(400, result.Status);
        Assert.Equal("missing_model", result.Code);
    }

    [Fact]
    public async Task Json_ModelNamedTwice_TheLastOneWinsAsTheUpstreamsParserReadsIt()
    {
        var result = await ReadAsync("""{"model":"first","model":"second"}""", Json);

        Assert.Equal("second", result.Model);
    }

    [Theory]
    [InlineData("""{"model":42}""")]
    [InlineData("""{"model":null}""")]
    [InlineData("""{"model":{"id":"llama"}}""")]
    [InlineData("""{"model":["llama"]}""")]
    [InlineData("""{"model":true}""")]
    [InlineData("""{"model":"llama","model":7}""")]
    public async Task Json_ModelThatIsNotAString_IsInvalidModel(string body)
    {
        var result = await ReadAsync(body, Json);

        Assert.False(result.IsFound);
        Assert.Equal(400, result.Status);
        Assert.Equal("invalid_model", result.Code);
    }

    [Theory]
    [InlineData("""{"model":""}""", "empty")]
    [InlineData("""{"model":"ll\nama"}""", "control")]
    [InlineData("""{"model":"llama\u0000"}""", "control")]
    public async Task Json_ModelValueThatCannotNameAModel_IsInvalidModel(string body, string why)
    {
        var result = await ReadAsync(body, Json);

        Assert.Equal("invalid_model", result.Code);
        Assert.Contains(why == "empty" ? "empty" : "control", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_ModelAtTheLengthLimit_IsFoundAndOneByteMoreIsRefused()
    {
        var longest = new string('m', ProtocolLimits.MaxModelIdBytes);

        var atLimit = await ReadAsync($$"""{"model":"{{longest}}"}""", Json);
        var overLimit = await ReadAsync($$"""{"model":"{{longest}}x"}""", Json);
        // The limit is in bytes: 256 two-byte characters are at the limit too, 257 are over it.
        var multiByte = await ReadAsync($$"""{"model":"{{new string('é', (ProtocolLimits.MaxModelIdBytes / 2) + 1)}}"}""", Json);

        Assert.Equal(longest, atLimit.Model);
        Assert.Equal("invalid_model", overLimit.Code);
        Assert.Equal("invalid_model", multiByte.Code);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("[{\"model\":\"llama\"}]", "JSON object")]
    [InlineData("\"llama\"", "JSON object")]
    [InlineData("""{"model":"llama"} {"model":"other"}""", "")]
    [InlineData("""{"model":"llama"}x""", "")]
    [InlineData("""{"model":"llama",""", "")]
    [InlineData("""{"model":"llama" /* comment */}""", "")]
    [InlineData("""{'model':'llama'}""", "")]
    public async Task Json_MalformedBody_IsInvalidJson(string body, string said)
    {
        var result = await ReadAsync(body, Json);

        Assert.False(result.IsFound);
        Assert.Equal(400, result.Status);
        Assert.Equal("invalid_json", result.Code);
        Assert.Contains(said, result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_NestedDeeperThanTheLimit_IsInvalidJsonNotAStackOverflow()
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);

        var result = await ReadAsync($$"""{"x":{{deep}},"model":"llama"}""", Json);

        Assert.Equal("invalid_json", result.Code);
    }

    [Fact]
    public async Task Json_NestedWithinTheLimit_IsRead()
    {
        var nested = new string('[', 60) + new string(']', 60);

        var result = await ReadAsync($$"""{"x":{{nested}},"model":"llama"}""", Json);

        Assert.Equal("llama", result.Model);
    }

    [Fact]
    public async Task Json_InvalidUtf8_IsInvalidJsonAndSaysSo()
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"lla""").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes("""ma"}""")).ToArray();

        var result = await ModelNameReader.ReadAsync(body, Json);

        Assert.Equal("invalid_json", result.Code);
        Assert.Contains("UTF-8", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    [InlineData("application/vnd.example+json")]
    [InlineData(null)]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/plain")]
    public async Task JsonBody_UnderAnyUsualContentType_IsReadAsJson(string? contentType)
    {
        // curl -d sends JSON labelled as a form; a body that opens with '{' is JSON whatever the label.
        var result = await ReadAsync("""  {"model":"llama"}""", contentType);

        Assert.Equal("llama", result.Model);
    }

    [Theory]
    [InlineData("model=llama&temperature=0.2", "llama")]
    [InlineData("prompt=hi&model=org%2Fllama%3Av2", "org/llama:v2")]
    [InlineData("model=llama+3", "llama 3")]
    public async Task Form_NamingAModel_FindsIt(string body, string expected)
    {
        var result = await ReadAsync(body, "application/x-www-form-urlencoded");

        Assert.Equal(expected, result.Model);
    }

    [Theory]
    [InlineData("prompt=hi", "missing_model")]
    [InlineData("model=", "invalid_model")]
    [InlineData("model=ll%0Aama", "invalid_model")]
    public async Task Form_WithoutAUsableModel_IsRefused(string body, string code)
    {
        var result = await ReadAsync(body, "application/x-www-form-urlencoded");

        Assert.Equal(400, result.Status);
        Assert.Equal(code, result.Code);
    }

    [Fact]
    public async Task UnsupportedContentType_WithABodyThatIsNotJson_Is415()
    {
        var result = await ReadAsync("model: llama", "text/yaml");

        Assert.Equal(415, result.Status);
        Assert.Equal("unsupported_media_type", result.Code);
        Assert.Contains("text/yaml", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Multipart_WithAModelField_FindsItTrimmed()
    {
        var body = Multipart("b0undary", ("file", "audio.wav", "RIFF....WAVE"), ("model", null, "  whisper-1\r\n"));

        var result = await ModelNameReader.ReadAsync(body, "multipart/form-data; boundary=b0undary");

        Assert.Equal("whisper-1", result.Model);
    }

    [Fact]
    public async Task Multipart_WithBinaryFilePartThatIsNotUtf8_StillFindsTheModel()
    {
        var body = Multipart("xyz", ("model", null, "whisper-1"), ("file", "a.bin", "\u00ff"));
        var binary = body.ToArray();
        // Make the file part's bytes invalid UTF-8, as audio is.
        var at = Array.IndexOf(binary, (byte)0xC3);
        binary[at] = 0xFF;

        var result = await ModelNameReader.ReadAsync(binary, "multipart/form-data; boundary=\"xyz\"");

        Assert.Equal("whisper-1", result.Model);
    }

    [Fact]
    public async Task Multipart_WithModelOnlyAsAFileName_IsMissing()
    {
        var body = Multipart("b", ("file", "model", "bytes"), ("prompt", null, "model"));

        var result = await ModelNameReader.ReadAsync(body, "multipart/form-data; boundary=b");

        Assert.Equal("missing_model", result.Code);
    }

    [Fact]
    public async Task Multipart_ModelLongerThanTheLimit_IsInvalidModel()
    {
        var body = Multipart("b", ("model", null, new string('m', ProtocolLimits.MaxModelIdBytes + 100)));

        var result = await ModelNameReader.ReadAsync(body, "multipart/form-data; boundary=b");

        Assert.Equal("invalid_model", result.Code);
    }

    [Fact]
    public async Task Multipart_TruncatedBody_IsInvalidBodyNotAnException()
    {
        var body = Encoding.UTF8.GetBytes("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nsome bytes without an end");

        var result = await ModelNameReader.ReadAsync(body, "multipart/form-data; boundary=b");

        Assert.Equal(400, result.Status);
        Assert.Equal("invalid_body", result.Code);
    }

    private static ValueTask<ModelNameResult> ReadAsync(string body, string? contentType) =>
        ModelNameReader.ReadAsync(Encoding.UTF8.GetBytes(body), contentType);

    private static ReadOnlyMemory<byte> Multipart(string boundary, params (string Name, string? FileName, string Value)[] parts)
    {
        var text = new StringBuilder();
        foreach (var (name, fileName, value) in parts)
        {
            text.Append("--").Append(boundary).Append("\r\n");
            text.Append("Content-Disposition: form-data; name=\"").Append(name).Append('"');
            if (fileName is not null)
            {
                text.Append("; filename=\"").Append(fileName).Append("\"\r\nContent-Type: application/octet-stream");
            }

            text.Append("\r\n\r\n").Append(value).Append("\r\n");
        }

        text.Append("--").Append(boundary).Append("--\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
