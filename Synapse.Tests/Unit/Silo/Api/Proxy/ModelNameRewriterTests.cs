using System.Buffers;
using System.Text;
using Synapse.Silo.Api.Proxy;

namespace Synapse.Tests.Unit.Silo.Api.Proxy;

[Trait("Category", "Unit")]
public sealed class ModelNameRewriterTests
{
    [Theory]
    [InlineData("""{"model":"gpt-4o","messages":[]}""", "llama-3.1-70b", """{"model":"llama-3.1-70b","messages":[]}""")]
    [InlineData("""{ "messages": [{"role":"user","content":"model"}], "model" : "gpt-4o" }""", "meta/llama \"3\"", """{ "messages": [{"role":"user","content":"model"}], "model" : "meta/llama \u00223\u0022" }""")]
    [InlineData("""{"stream":true,"model":"a"}""", "bbbbbbbbbbbb", """{"stream":true,"model":"bbbbbbbbbbbb"}""")]
    public void ModelValue_IsReplaced_AndNothingElse(string body, string model, string expected)
    {
        var rewritten = ModelNameRewriter.Rewrite(Encoding.UTF8.GetBytes(body), model, out var length);

        Assert.Equal(expected, Encoding.UTF8.GetString(rewritten!, 0, length));
        ArrayPool<byte>.Shared.Return(rewritten!);
    }

    [Theory]
    [InlineData("""{"messages":[{"model":"nested"}]}""")]
    [InlineData("""{"model":5}""")]
    [InlineData("""not json""")]
    [InlineData("""[{"model":"a"}]""")]
    public void BodiesWithoutATopLevelModelString_AreLeftAlone(string body)
    {
        Assert.Null(ModelNameRewriter.Rewrite(Encoding.UTF8.GetBytes(body), "x", out _));
    }
}
