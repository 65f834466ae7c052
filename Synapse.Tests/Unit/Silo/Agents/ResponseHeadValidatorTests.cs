using Synapse.Protocol.Messages;
using Synapse.Silo.Agents;

namespace Synapse.Tests.Unit.Silo.Agents;

/// <summary>A response head from an agent reaches a caller only if HTTP can carry it and nothing in it is smuggled.</summary>
[Trait("Category", "Unit")]
public sealed class ResponseHeadValidatorTests
{
    [Theory]
    [InlineData(200)]
    [InlineData(201)]
    [InlineData(204)]
    [InlineData(400)]
    [InlineData(429)]
    [InlineData(503)]
    [InlineData(599)]
    public void Check_OrdinaryHead_IsAccepted(int status)
    {
        var head = Head(
            status,
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Content-Length", "1234"),
            ("X-Request-Id", "req_!#$%&'*+-.^_`|~"),
            ("Set-Cookie", "a=b;\tPath=/"),
            ("Retry-After", "3"));

        Assert.Null(ResponseHeadValidator.Check(head));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(101)]
    [InlineData(199)]
    [InlineData(600)]
    [InlineData(0)]
    [InlineData(-200)]
    public void Check_StatusThatIsNotAFinalHttpStatus_IsRefused(int status)
    {
        Assert.Contains("final HTTP status", ResponseHeadValidator.Check(Head(status)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Transfer-Encoding", "chunked")]
    [InlineData("transfer-encoding", "chunked")]
    [InlineData("Connection", "close")]
    [InlineData("Keep-Alive", "timeout=5")]
    [InlineData("Upgrade", "h2c")]
    [InlineData("TE", "trailers")]
    [InlineData("Trailer", "X-Checksum")]
    [InlineData("Proxy-Connection", "keep-alive")]
    public void Check_HopByHopOrFramingHeader_IsRefused(string name, string value)
    {
        Assert.Contains("hop-by-hop or framing", ResponseHeadValidator.Check(Head(200, (name, value))), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("X Header")]
    [InlineData("X-Header:")]
    [InlineData("X-Head\r\ner")]
    [InlineData("Ünicode")]
    [InlineData("(comment)")]
    public void Check_HeaderNameThatIsNotAnHttpToken_IsRefused(string name)
    {
        Assert.Equal("a header name is not an HTTP token", ResponseHeadValidator.Check(Head(200, (name, "v"))));
    }

    [Theory]
    [InlineData("line\r\nX-Injected: 1")]
    [InlineData("line\nbreak")]
    [InlineData("nul\0")]
    [InlineData("del\u007f")]
    [InlineData("caf\u00e9")]
    [InlineData("emoji \U0001F600")]
    public void Check_ValueWithControlOrNonAsciiCharacter_IsRefusedWithoutQuotingTheValue(string value)
    {
        var problem = ResponseHeadValidator.Check(Head(200, ("X-Upstream", value)));

        Assert.Equal("header X-Upstream has a control or non-ASCII character in its value", problem);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData(" 12")]
    [InlineData("12, 12")]
    [InlineData("")]
    [InlineData("99999999999999999999999")]
    public void Check_ContentLengthThatIsNotANumber_IsRefused(string value)
    {
        Assert.Equal("Content-Length is not a number", ResponseHeadValidator.Check(Head(200, ("content-length", value))));
    }

    [Fact]
    public void Check_FirstProblem_IsReportedEvenAfterValidHeaders()
    {
        var head = Head(200, ("Content-Type", "application/json"), ("X-Ok", "1"), ("Connection", "close"));

        Assert.NotNull(ResponseHeadValidator.Check(head));
    }

    private static ResponseHead Head(int status, params (string Name, string Value)[] headers) =>
        new(1, status, [.. headers.Select(h => new HeaderField(h.Name, h.Value))]);
}
