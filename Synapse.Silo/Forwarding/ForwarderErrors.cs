using Synapse.Grains.Models;
using Synapse.Grains.Responses;
using Synapse.Protocol.Messages;
using Synapse.Silo.Api.Errors;

namespace Synapse.Silo.Forwarding;

/// <summary>
/// The one place that says what each <see cref="ForwarderError"/> means: its HTTP status, OpenAI error type and code,
/// message and retry rule; and the one place that turns an end event's code or a grain's refusal into one.
/// </summary>
internal static class ForwarderErrors
{
    private static readonly Dictionary<ForwarderError, Description> Descriptions = new()
    {
        [ForwarderError.ModelNotFound] = new(404, OpenAIError.InvalidRequest, "model_not_found", "The model '{0}' does not exist or no agent serves it.", RetryKind.None),
        [ForwarderError.NoLiveInstance] = new(503, OpenAIError.Server, "no_live_instance", "No live instance serves '{0}' right now.", RetryKind.None),
        [ForwarderError.QueueFull] = new(429, OpenAIError.RateLimit, "queue_full", "Every instance of '{0}' is busy and its queue is full; retry later.", RetryKind.None),
        [ForwarderError.QueueTimeout] = new(503, OpenAIError.Server, "queue_timeout", "Every instance of '{0}' stayed busy for the whole queue timeout; retry later.", RetryKind.None),
        [ForwarderError.RegistryUnavailable] = new(503, OpenAIError.Server, "registry_unavailable", "The gateway could not reach the model registry; try again.", RetryKind.None),
        [ForwarderError.UpstreamUnreachable] = new(502, OpenAIError.Server, AgentErrorCodes.UpstreamUnreachable, "The upstream LLM server could not be reached.", RetryKind.Instance),
        [ForwarderError.AgentDraining] = new(503, OpenAIError.Server, AgentErrorCodes.Draining, "The agent serving this model is shutting down.", RetryKind.Instance),
        [ForwarderError.UpstreamInvalidResponse] = new(502, OpenAIError.Server, GatewayErrorCodes.UpstreamInvalidResponse, "The upstream LLM server sent a response the gateway cannot relay.", RetryKind.Instance),
        [ForwarderError.UpstreamUnavailable] = new(502, OpenAIError.Server, AgentErrorCodes.UpstreamError, "The upstream LLM server answered that it is unavailable.", RetryKind.Instance),
        [ForwarderError.ConnectionUnavailable] = new(502, OpenAIError.Server, AgentErrorCodes.UpstreamUnreachable, "The instance serving this model could not be reached.", RetryKind.Path),
        [ForwarderError.AgentBusy] = new(503, OpenAIError.Server, AgentErrorCodes.Overloaded, "Every instance of this model is at capacity.", RetryKind.Path),
        [ForwarderError.AgentDisconnected] = new(502, OpenAIError.Server, GatewayErrorCodes.AgentDisconnected, "The agent serving this model disconnected before the response was complete.", RetryKind.Path),
        [ForwarderError.GatewayNodeLost] = new(502, OpenAIError.Server, GatewayErrorCodes.GatewayNodeLost, "The gateway node holding the agent's connection failed before the response was complete.", RetryKind.Path),
        [ForwarderError.RelayInterrupted] = new(502, OpenAIError.Server, GatewayErrorCodes.RelayInterrupted, "The response was interrupted between gateway nodes.", RetryKind.Path),
        [ForwarderError.UpstreamFailed] = new(502, OpenAIError.Server, AgentErrorCodes.UpstreamError, "The upstream LLM server failed.", RetryKind.None),
        [ForwarderError.IdleTimeout] = new(504, OpenAIError.Server, GatewayErrorCodes.IdleTimeout, "The upstream sent nothing for longer than the idle timeout.", RetryKind.None),
        [ForwarderError.WindowExceeded] = new(502, OpenAIError.Server, AgentErrorCodes.UpstreamError, "The agent sent more of the response than the gateway allowed; the response was cut.", RetryKind.None),
    };

    public static int StatusOf(ForwarderError error) => Descriptions[error].Status;

    public static string CodeOf(ForwarderError error) => Descriptions[error].Code;

    public static RetryKind RetryOf(ForwarderError error) => Descriptions[error].Retry;

    /// <summary>What an end event says went wrong; null for a successful end.</summary>
    public static Failure? FromEnd(in ResponseEvent end) => end.ErrorCode switch
    {
        null => null,
        AgentErrorCodes.UpstreamUnreachable => new(ForwarderError.UpstreamUnreachable, end.ErrorMessage),
        AgentErrorCodes.Draining => new(ForwarderError.AgentDraining, end.ErrorMessage),
        AgentErrorCodes.Overloaded => new(ForwarderError.AgentBusy, end.ErrorMessage),
        GatewayErrorCodes.UpstreamInvalidResponse => new(ForwarderError.UpstreamInvalidResponse, end.ErrorMessage),
        GatewayErrorCodes.AgentDisconnected => new(ForwarderError.AgentDisconnected, end.ErrorMessage),
        GatewayErrorCodes.GatewayNodeLost => new(ForwarderError.GatewayNodeLost, end.ErrorMessage),
        GatewayErrorCodes.RelayInterrupted => new(ForwarderError.RelayInterrupted, end.ErrorMessage),
        GatewayErrorCodes.IdleTimeout => new(ForwarderError.IdleTimeout, end.ErrorMessage),
        GatewayErrorCodes.WindowExceeded => new(ForwarderError.WindowExceeded, end.ErrorMessage),

        // upstream_error, bad_request, cancelled, or a code this gateway does not know (a newer agent's).
        _ => new(ForwarderError.UpstreamFailed, end.ErrorMessage),
    };

    /// <summary>Why the model's grain leased no instance; null when it did (or the caller left).</summary>
    public static Failure? FromAcquire(AcquireResult result) => result.Status switch
    {
        AcquireStatus.UnknownModel => new(ForwarderError.ModelNotFound),
        AcquireStatus.NoLiveInstance => new(ForwarderError.NoLiveInstance, RetryAfterSeconds: result.RetryAfterSeconds),
        AcquireStatus.QueueFull => new(ForwarderError.QueueFull, RetryAfterSeconds: result.RetryAfterSeconds),
        AcquireStatus.QueueTimeout => new(ForwarderError.QueueTimeout, RetryAfterSeconds: result.RetryAfterSeconds),
        _ => null,
    };

    /// <summary>The failure as the caller's JSON error, when nothing of the response went out yet.</summary>
    public static Task WriteAsync(HttpContext context, string model, Failure failure, string? suffix = null)
    {
        var description = Descriptions[failure.Error];
        return OpenAIError.WriteAsync(context, description.Status, description.Type, description.Code,
            MessageOf(description, model, failure) + suffix, failure.RetryAfterSeconds > 0 ? failure.RetryAfterSeconds : null);
    }

    /// <summary>The failure as a server-sent event, for a stream whose head already went out.</summary>
    public static byte[] SseEvent(string model, Failure failure)
    {
        var description = Descriptions[failure.Error];
        return OpenAIError.SseEvent(description.Type, description.Code, MessageOf(description, model, failure));
    }

    private static string MessageOf(Description description, string model, Failure failure)
    {
        var message = string.Format(System.Globalization.CultureInfo.InvariantCulture, description.Message, OpenAIError.Sanitize(model));
        return failure.Error == ForwarderError.UpstreamFailed && !string.IsNullOrEmpty(failure.Detail)
            ? $"The upstream LLM server failed: {OpenAIError.Sanitize(failure.Detail)}"
            : message;
    }

    private sealed record Description(int Status, string Type, string Code, string Message, RetryKind Retry);
}
