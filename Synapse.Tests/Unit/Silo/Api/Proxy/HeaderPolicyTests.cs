using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Synapse.Protocol.Messages;
using Synapse.Silo.Api.Proxy;

namespace Synapse.Tests.Unit.Silo.Api.Proxy;

/// <summary>Which of a caller's headers reach the upstream, and which of the upstream's reach the caller.</summary>
[Trait("Category", "Unit")]
public sealed class HeaderPolicyTests
{
    private const string CallerTrace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Theory]
    [InlineData("Connection", "keep-alive")]
    [InlineData("Keep-Alive", "timeout=5")]
    [InlineData("Proxy-Connection", "keep-alive")]
    [InlineData("Transfer-Encoding", "chunked")]
    [InlineData("TE", "trailers")]
    [InlineData("Trailer", "X-Checksum")]
    [InlineData("Upgrade", "websocket")]
    [InlineData("Content-Length", "17")]
    [InlineData("Expect", "100-continue")]
    [InlineData("Host", "gateway.example")]
    [InlineData("Accept-Encoding", "gzip, br")]
    [InlineData("Forwarded", "for=10.0.0.1")]
    [InlineData("X-Forwarded-For", "10.0.0.1")]
    [InlineData("X-Real-IP", "10.0.0.1")]
    [InlineData("Via", "1.1 proxy")]
    public void ForUpstream_HopByHopFramingAndProxyHeaders_AreNeverForwarded(string name, string value)
    {
        var forwarded = HeaderPolicy.ForUpstream(Headers((name, value), ("Content-Type", "application/json")), span: null);

        Assert.DoesNotContain(forwarded, h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        Assert.Contains(new HeaderField("Content-Type", "application/json"), forwarded);
    }

    [Theory]
    [InlineData("Authorization", "Bearer sk-caller-secret")]
    [InlineData("authorization", "Basic c2stY2FsbGVyLXNlY3JldA==")]
    [InlineData("Proxy-Authorization", "Bearer sk-caller-secret")]
    [InlineData("X-API-Key", "sk-caller-secret")]
    [InlineData("x-api-key", "sk-caller-secret")]
    [InlineData("Cookie", "session=sk-caller-secret")]
    public void ForUpstream_CallerCredentials_NeverReachTheUpstream(string name, string value)
    {
        var forwarded = HeaderPolicy.ForUpstream(Headers((name, value), ("User-Agent", "openai-python")), span: null);

        Assert.DoesNotContain(forwarded, h => h.Value.Contains("c2stY2FsbGVyLXNlY3JldA", StringComparison.Ordinal) || h.Value.Contains("sk-caller-secret", StringComparison.Ordinal));
        Assert.Single(forwarded);
    }

    [Fact]
    public void ForUpstream_HeadersTheConnectionHeaderLists_AreDropped()
    {
        var headers = Headers(
            ("Connection", "X-Hop-One, keep-alive"),
            ("Connection", " x-hop-two "),
            ("X-Hop-One", "1"),
            ("X-Hop-Two", "2"),
            ("X-Kept", "3"));

        var forwarded = HeaderPolicy.ForUpstream(headers, span: null);

        Assert.Equal([new HeaderField("X-Kept", "3")], forwarded);
    }

    [Fact]
    public void ForUpstream_EndToEndHeaders_CrossWithEveryValueInOrder()
    {
        var headers = Headers(
            ("Content-Type", "application/json"),
            ("Accept", "text/event-stream"),
            ("OpenAI-Organization", "org-1"),
            ("X-Custom", "a"),
            ("X-Custom", "b"));

        var forwarded = HeaderPolicy.ForUpstream(headers, span: null);

        Assert.Equal(
            [
                new HeaderField("Content-Type", "application/json"),
                new HeaderField("Accept", "text/event-stream"),
                new HeaderField("OpenAI-Organization", "org-1"),
                new HeaderField("X-Custom", "a"),
                new HeaderField("X-Custom", "b"),
            ],
            forwarded);
    }

    [Fact]
    public void ForUpstream_PseudoHeaders_AreNotForwarded()
    {
        var forwarded = HeaderPolicy.ForUpstream(Headers((":authority", "gateway"), (":path", "/v1/chat/completions"), ("Accept", "*/*")), span: null);

        Assert.Equal([new HeaderField("Accept", "*/*")], forwarded);
    }

    [Fact]
    public void ForUpstream_WithoutAGatewaySpan_PassesTheCallersTraceContext()
    {
        var forwarded = HeaderPolicy.ForUpstream(Headers(("traceparent", CallerTrace), ("tracestate", "vendor=1")), span: null);

        Assert.Equal([new HeaderField("traceparent", CallerTrace), new HeaderField("tracestate", "vendor=1")], forwarded);
    }

    [Fact]
    public void ForUpstream_WithAGatewaySpan_ReplacesTheCallersTraceContextWithTheSpans()
    {
        using var span = new Activity("forward").SetIdFormat(ActivityIdFormat.W3C).SetParentId(CallerTrace);
        span.TraceStateString = "gateway=1";
        span.Start();

        var forwarded = HeaderPolicy.ForUpstream(Headers(("TraceParent", CallerTrace), ("tracestate", "vendor=1"), ("Accept", "*/*")), span);

        Assert.Equal(
            [new HeaderField("Accept", "*/*"), new HeaderField("traceparent", span.Id!), new HeaderField("tracestate", "gateway=1")],
            forwarded);
        // The gateway's span hangs under the caller's: same trace, new parent.
        Assert.StartsWith("00-0af7651916cd43dd8448eb211c80319c-", span.Id, StringComparison.Ordinal);
        Assert.NotEqual(CallerTrace, span.Id);
    }

    [Fact]
    public void ForUpstream_WithAGatewaySpanWithoutTraceState_SendsNoTraceState()
    {
        using var span = new Activity("forward").SetIdFormat(ActivityIdFormat.W3C).Start();

        var forwarded = HeaderPolicy.ForUpstream(Headers(("tracestate", "vendor=1")), span);

        Assert.Equal([new HeaderField("traceparent", span.Id!)], forwarded);
    }

    [Fact]
    public void ForUpstream_WithAHierarchicalSpan_LeavesTheCallersW3CContextAlone()
    {
        using var span = new Activity("forward").SetIdFormat(ActivityIdFormat.Hierarchical).Start();

        var forwarded = HeaderPolicy.ForUpstream(Headers(("traceparent", CallerTrace)), span);

        Assert.Equal([new HeaderField("traceparent", CallerTrace)], forwarded);
    }

    [Theory]
    [InlineData("Content-Type", true)]
    [InlineData("Content-Length", true)]
    [InlineData("Cache-Control", true)]
    [InlineData("X-Request-Id", true)]
    [InlineData("openai-processing-ms", true)]
    [InlineData("Retry-After", true)]
    [InlineData("Connection", false)]
    [InlineData("keep-alive", false)]
    [InlineData("Transfer-Encoding", false)]
    [InlineData("Upgrade", false)]
    [InlineData("Trailer", false)]
    [InlineData("Server", false)]
    [InlineData("Date", false)]
    [InlineData("Set-Cookie", false)]
    [InlineData("set-cookie", false)]
    [InlineData("Alt-Svc", false)]
    [InlineData("Strict-Transport-Security", false)]
    [InlineData("X-Content-Type-Options", false)]
    public void IsReturned_ResponseHeaders_OnlyEndToEndOnesReachTheCaller(string name, bool returned)
    {
        Assert.Equal(returned, HeaderPolicy.IsReturned(name));
    }

    private static HeaderDictionary Headers(params (string Name, string Value)[] fields)
    {
        var headers = new HeaderDictionary();
        foreach (var (name, value) in fields)
        {
            headers.Append(name, value);
        }

        return headers;
    }
}
