using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Synapse.Protocol.Messages;
using Synapse.Silo.Forwarding;
using Synapse.Silo.Transport;

namespace Synapse.Tests.Unit.Silo.Forwarding;

/// <summary>Which refusals send a request on to its fallbacks, and the request each fallback gets.</summary>
[Trait("Category", "Unit")]
public sealed class FallbackRouteTests
{
    /// <summary>By name: the enum is internal to the gateway, and theory parameters of public tests must be public.</summary>
    public static TheoryData<string> AllErrors => new(Enum.GetNames<ForwarderError>());

    [Theory]
    [MemberData(nameof(AllErrors))]
    public void Follows_OnlyTheLeasersNoInstanceCanTakeItRefusals(string name)
    {
        var error = Enum.Parse<ForwarderError>(name);

        var expected = error is ForwarderError.ModelNotFound or ForwarderError.NoLiveInstance or ForwarderError.QueueFull or ForwarderError.QueueTimeout;

        Assert.Equal(expected, FallbackRoute.Follows(new Failure(error)));
    }

    [Fact]
    public void Next_GivesEachFallbackInOrder_WithItsNameInTheBody_ThenNothing()
    {
        var request = Request("""{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"model"}]}""") with
        {
            Requested = "gpt-4o",
            Fallbacks = ["llama-8b", "llama-3b"],
        };
        using var route = new FallbackRoute(request, new Failure(ForwarderError.QueueFull), NullLogger.Instance);

        var first = route.Next();
        var second = route.Next();

        Assert.Equal(("llama-8b", "gpt-4o"), (first!.Model, first.Requested));
        Assert.Equal("""{"model":"llama-8b","stream":true,"messages":[{"role":"user","content":"model"}]}""", Encoding.UTF8.GetString(first.Body.Span));
        Assert.Empty(first.Fallbacks);
        Assert.Equal("llama-3b", second!.Model);
        Assert.Equal("""{"model":"llama-3b","stream":true,"messages":[{"role":"user","content":"model"}]}""", Encoding.UTF8.GetString(second.Body.Span));
        Assert.Null(route.Next());
    }

    [Fact]
    public void Next_BodyWithoutAJsonModel_IsNotSentToAFallback()
    {
        var request = Request("--boundary\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper\r\n--boundary--") with { Fallbacks = ["whisper-small"] };
        using var route = new FallbackRoute(request, new Failure(ForwarderError.NoLiveInstance), NullLogger.Instance);

        Assert.Null(route.Next());
    }

    private static ForwardedRequest Request(string body) =>
        new("alpha", "llama-70b", "POST", "/v1/chat/completions", Array.Empty<HeaderField>(), Encoding.UTF8.GetBytes(body));
}
