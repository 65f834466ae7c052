using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Synapse.Grains.Models;
using Synapse.Grains.Responses;
using Synapse.Protocol.Messages;
using Synapse.Silo.Forwarding;

namespace Synapse.Tests.Unit.Silo.Forwarding;

/// <summary>What a caller is told for each way a forwarded request can fail, and which failures earn another attempt.</summary>
[Trait("Category", "Unit")]
public sealed class ForwarderErrorsTests
{
    /// <summary>The error each code an agent or a silo puts on an end event must mean.</summary>
    private static readonly Dictionary<string, ForwarderError> IntendedErrors = new()
    {
        [AgentErrorCodes.UpstreamUnreachable] = ForwarderError.UpstreamUnreachable,
        [AgentErrorCodes.Draining] = ForwarderError.AgentDraining,
        [AgentErrorCodes.Overloaded] = ForwarderError.AgentBusy,
        [AgentErrorCodes.UpstreamError] = ForwarderError.UpstreamFailed,
        [AgentErrorCodes.Cancelled] = ForwarderError.UpstreamFailed,
        [AgentErrorCodes.BadRequest] = ForwarderError.UpstreamFailed,
        [GatewayErrorCodes.UpstreamInvalidResponse] = ForwarderError.UpstreamInvalidResponse,
        [GatewayErrorCodes.AgentDisconnected] = ForwarderError.AgentDisconnected,
        [GatewayErrorCodes.GatewayNodeLost] = ForwarderError.GatewayNodeLost,
        [GatewayErrorCodes.RelayInterrupted] = ForwarderError.RelayInterrupted,
        [GatewayErrorCodes.IdleTimeout] = ForwarderError.IdleTimeout,
        [GatewayErrorCodes.WindowExceeded] = ForwarderError.WindowExceeded,
    };

    /// <summary>By name: the enum is internal to the gateway, and theory parameters of public tests must be public.</summary>
    public static TheoryData<string> AllErrors => new(Enum.GetNames<ForwarderError>());

    public static TheoryData<string> AllEndCodes => new(DeclaredCodes(typeof(AgentErrorCodes)).Concat(DeclaredCodes(typeof(GatewayErrorCodes))));

    [Theory]
    [MemberData(nameof(AllErrors))]
    public async Task EveryError_HasADescription_ThatMakesAnOpenAIErrorAndAnSseEvent(string name)
    {
        var error = Enum.Parse<ForwarderError>(name);
        var context = NewContext();

        await ForwarderErrors.WriteAsync(context, "llama", new Failure(error));
        var sse = Encoding.UTF8.GetString(ForwarderErrors.SseEvent("llama", new Failure(error)));

        var json = Error(context);
        Assert.Equal(ForwarderErrors.StatusOf(error), context.Response.StatusCode);
        Assert.Equal(ForwarderErrors.CodeOf(error), json.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("message").GetString()));
        Assert.DoesNotContain("{0}", json.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("data: {\"error\":", sse, StringComparison.Ordinal);
        Assert.EndsWith("}\n\n", sse, StringComparison.Ordinal);
        Assert.Equal(json.GetRawText(), JsonDocument.Parse(sse["data: ".Length..]).RootElement.GetProperty("error").GetRawText());
    }

    [Theory]
    [InlineData(nameof(ForwarderError.ModelNotFound), 404, "invalid_request_error", "model_not_found", nameof(RetryKind.None))]
    [InlineData(nameof(ForwarderError.NoLiveInstance), 503, "server_error", "no_live_instance", nameof(RetryKind.None))]
    [InlineData(nameof(ForwarderError.QueueFull), 429, "rate_limit_error", "queue_full", nameof(RetryKind.None))]
    [InlineData(nameof(ForwarderError.QueueTimeout), 503, "server_error", "queue_timeout", nameof(RetryKind.None))]
    [InlineData(nameof(ForwarderError.RegistryUnavailable), 503, "server_error", "registry_unavailable", nameof(RetryKind.None))]
    [InlineData(nameof(ForwarderError.UpstreamUnreachable), 502, "server_error", "upstream_unreachable", nameof(RetryKind.Instance))]
    [InlineData(nameof(ForwarderError.AgentDraining), 503, "server_error", "agent_draining", nameof(RetryKind.Instance))]
    [InlineData(nameof(ForwarderError.UpstreamInvalidResponse), 502, "server_error", "upstream_invalid_response", nameof(RetryKind.Instance))]
    [InlineData(nameof(ForwarderError.UpstreamUnavailable), 502, "server_error", "upstream_error", nameof(RetryKind.Instance))]
    [InlineData(nameof(ForwarderError.ConnectionUnavailable), 502, "server_error", "upstream_unreachable", nameof(RetryKind.Path))]
    [InlineData(nameof(ForwarderError.AgentBusy), 503, "server_error", "agent_overloaded", nameof(RetryKind.Path))]
    [InlineData(nameof(ForwarderError.AgentDisconnected), 502, "server_error", "agent_disconnected", nameof(RetryKind.Path))]
    [InlineData(nameof(ForwarderError.GatewayNodeLost), 502, "server_error", "gateway_node_lost", nameof(RetryKind.Path))]
    [InlineData(nameof(ForwarderError.RelayInterrupted), 502, "server_error", "relay_interrupted", nameof(RetryKind.Path))]
    [InlineData(nameof(ForwarderError.UpstreamFailed), 502, "server_error", "upstream_error", nameof(RetryKind.None))]
    [InlineData(nameof(ForwarderError.IdleTimeout), 504, "server_error", "idle_timeout", nameof(RetryKind.None))]
    [InlineData(nameof(ForwarderError.WindowExceeded), 502, "server_error", "upstream_error", nameof(RetryKind.None))]
    public async Task Error_IsAnsweredWithItsStatusTypeAndCode_AndRetriedAsItsKindSays(string name, int status, string type, string code, string retry)
    {
        var error = Enum.Parse<ForwarderError>(name);
        var context = NewContext();

        await ForwarderErrors.WriteAsync(context, "llama", new Failure(error));

        var json = Error(context);
        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal("application/json", context.Response.ContentType);
        Assert.Equal(type, json.GetProperty("type").GetString());
        Assert.Equal(code, json.GetProperty("code").GetString());
        Assert.Equal(Enum.Parse<RetryKind>(retry), ForwarderErrors.RetryOf(error));
    }

    [Theory]
    [MemberData(nameof(AllEndCodes))]
    public void FromEnd_EveryCodeAnAgentOrASiloSends_MapsToTheIntendedError(string code)
    {
        Assert.True(IntendedErrors.TryGetValue(code, out var intended), $"no intended error for end code '{code}': add it to the gateway's mapping and here");

        var failure = ForwarderErrors.FromEnd(ResponseEvent.End(code, "the agent's words"));

        Assert.Equal(intended, failure?.Error);
        Assert.Equal("the agent's words", failure?.Detail);
    }

    [Theory]
    [InlineData("upstream_exploded")]
    [InlineData("")]
    [InlineData("AGENT_DISCONNECTED")]
    public void FromEnd_CodeThisGatewayDoesNotKnow_IsAnUpstreamFailure(string code)
    {
        Assert.Equal(ForwarderError.UpstreamFailed, ForwarderErrors.FromEnd(ResponseEvent.End(code))?.Error);
    }

    [Fact]
    public void FromEnd_SuccessfulEnd_IsNoFailure()
    {
        Assert.Null(ForwarderErrors.FromEnd(ResponseEvent.End()));
    }

    [Theory]
    [InlineData(AcquireStatus.UnknownModel, nameof(ForwarderError.ModelNotFound))]
    [InlineData(AcquireStatus.NoLiveInstance, nameof(ForwarderError.NoLiveInstance))]
    [InlineData(AcquireStatus.QueueFull, nameof(ForwarderError.QueueFull))]
    [InlineData(AcquireStatus.QueueTimeout, nameof(ForwarderError.QueueTimeout))]
    public void FromAcquire_Refusal_MapsToItsErrorAndKeepsRetryAfter(AcquireStatus status, string error)
    {
        var failure = ForwarderErrors.FromAcquire(AcquireResult.Of(status, retryAfterSeconds: 7));

        Assert.Equal(Enum.Parse<ForwarderError>(error), failure?.Error);
        Assert.Equal(status == AcquireStatus.UnknownModel ? 0 : 7, failure?.RetryAfterSeconds);
    }

    [Theory]
    [InlineData(AcquireStatus.Granted)]
    [InlineData(AcquireStatus.Cancelled)]
    public void FromAcquire_GrantOrCallerGone_IsNoRefusal(AcquireStatus status)
    {
        Assert.Null(ForwarderErrors.FromAcquire(AcquireResult.Of(status)));
    }

    [Fact]
    public async Task WriteAsync_WithRetryAfter_SetsTheHeader()
    {
        var context = NewContext();

        await ForwarderErrors.WriteAsync(context, "llama", new Failure(ForwarderError.QueueFull, RetryAfterSeconds: 3));

        Assert.Equal("3", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(429, context.Response.StatusCode);
    }

    [Fact]
    public async Task WriteAsync_UpstreamFailureWithDetail_QuotesTheDetailSanitisedAndTheSuffix()
    {
        var context = NewContext();

        await ForwarderErrors.WriteAsync(context, "llama", new Failure(ForwarderError.UpstreamFailed, "CUDA out of memory\r\nX-Injected: 1"), " (2 attempts)");

        Assert.Equal("The upstream LLM server failed: CUDA out of memory??X-Injected: 1 (2 attempts)", Error(context).GetProperty("message").GetString());
    }

    [Fact]
    public async Task WriteAsync_ModelNameInTheMessage_IsSanitisedAndShortened()
    {
        var context = NewContext();
        var hostile = "evil\n" + new string('m', 500);

        await ForwarderErrors.WriteAsync(context, hostile, new Failure(ForwarderError.ModelNotFound));

        var message = Error(context).GetProperty("message").GetString()!;
        Assert.DoesNotContain('\n', message);
        Assert.Contains("evil?mmm", message, StringComparison.Ordinal);
        Assert.True(message.Length < 300, message);
    }

    [Fact]
    public async Task WriteAsync_AfterTheResponseStarted_WritesNothing()
    {
        var context = NewContext();
        var started = new StartedResponseFeature();
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>(started);

        await ForwarderErrors.WriteAsync(context, "llama", new Failure(ForwarderError.UpstreamFailed));

        Assert.Equal(200, started.StatusCode);
        Assert.Equal(0, ((MemoryStream)context.Response.Body).Length);
    }

    private static IEnumerable<string> DeclaredCodes(Type holder) =>
        holder.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!);

    private static DefaultHttpContext NewContext()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static JsonElement Error(HttpContext context)
    {
        var body = ((MemoryStream)context.Response.Body).ToArray();
        return JsonDocument.Parse(body).RootElement.GetProperty("error");
    }

    private sealed class StartedResponseFeature : Microsoft.AspNetCore.Http.Features.HttpResponseFeature
    {
        public override bool HasStarted => true;
    }
}
