using System.Buffers;
using System.Text;
using Synapse.Silo.Usage;

namespace Synapse.Tests.Unit.Silo.Usage;

[Trait("Category", "Unit")]
public sealed class IncludeUsageInjectorTests
{
    [Theory]
    [InlineData("""{"model":"m","stream":true}""", """{"stream_options":{"include_usage":true},"model":"m","stream":true}""")]
    [InlineData("""{ "model": "m", "stream": true, "stream_options": {} }""", """{ "model": "m", "stream": true, "stream_options": {"include_usage":true} }""")]
    [InlineData("""{"model":"m","stream":true,"stream_options":{"continuous_usage_stats":false}}""", """{"model":"m","stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":false}}""")]
    [InlineData("""{"model":"m","stream":true,"stream_options":{"include_usage":false}}""", """{"model":"m","stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("""{"model":"m","stream":true,"stream_options":null}""", """{"model":"m","stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"\"stream\":false"}],"stream":true}""", """{"stream_options":{"include_usage":true},"model":"m","messages":[{"role":"user","content":"\"stream\":false"}],"stream":true}""")]
    public void StreamWithoutUsage_GetsIncludeUsage_AndKeepsEveryOtherByte(string body, string expected)
    {
        var mode = IncludeUsageInjector.Prepare(Encoding.UTF8.GetBytes(body), out var rewritten, out var length);

        Assert.Equal(StreamUsageMode.Injected, mode);
        Assert.Equal(expected, Encoding.UTF8.GetString(rewritten!, 0, length));
        ArrayPool<byte>.Shared.Return(rewritten!);
    }

    [Theory]
    [InlineData("""{"model":"m","stream":true,"stream_options":{"include_usage":true}}""", StreamUsageMode.CallerAsked)]
    [InlineData("""{"model":"m"}""", StreamUsageMode.Answer)]
    [InlineData("""{"model":"m","stream":false}""", StreamUsageMode.Answer)]
    [InlineData("""{"model":"m","stream":"yes"}""", StreamUsageMode.Answer)]
    [InlineData("""{"model":"m","stream":true,"stream_options":"x"}""", StreamUsageMode.Answer)]
    [InlineData("""{"model":"m","stream":true""", StreamUsageMode.Answer)]
    [InlineData("""{"model":"m","stream":true} trailing""", StreamUsageMode.Answer)]
    [InlineData("""[{"stream":true}]""", StreamUsageMode.Answer)]
    public void OtherBodies_AreLeftAlone(string body, StreamUsageMode expected)
    {
        Assert.Equal(expected, IncludeUsageInjector.Prepare(Encoding.UTF8.GetBytes(body), out var rewritten, out _));
        Assert.Null(rewritten);
    }
}
