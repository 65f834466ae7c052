using Synapse.Protocol.Messages;
using Synapse.Silo.Api.Errors;

namespace Synapse.Silo.Api.Proxy;

/// <summary>What a caller is told when the upstream side fails, by the code that ended the response.</summary>
internal static class UpstreamErrors
{
    public static (int Status, string Message) Describe(string? code, string? detail) => code switch
    {
        AgentErrorCodes.AgentDisconnected => (StatusCodes.Status502BadGateway, "The agent serving this model disconnected before the response was complete."),
        AgentErrorCodes.GatewayNodeLost => (StatusCodes.Status502BadGateway, "The gateway node holding the agent's connection failed before the response was complete."),
        AgentErrorCodes.RelayInterrupted => (StatusCodes.Status502BadGateway, "The response was interrupted between gateway nodes."),
        AgentErrorCodes.UpstreamUnreachable => (StatusCodes.Status502BadGateway, "The upstream LLM server could not be reached."),
        AgentErrorCodes.UpstreamInvalidResponse => (StatusCodes.Status502BadGateway, "The upstream LLM server sent a response the gateway cannot relay."),
        AgentErrorCodes.IdleTimeout => (StatusCodes.Status504GatewayTimeout, "The upstream sent nothing for longer than the idle timeout."),
        AgentErrorCodes.Draining => (StatusCodes.Status503ServiceUnavailable, "The agent serving this model is shutting down."),
        AgentErrorCodes.Overloaded => (StatusCodes.Status503ServiceUnavailable, "Every instance of this model is at capacity."),
        _ => (StatusCodes.Status502BadGateway, string.IsNullOrEmpty(detail)
            ? "The upstream LLM server failed."
            : $"The upstream LLM server failed: {OpenAIError.Sanitize(detail)}"),
    };
}
