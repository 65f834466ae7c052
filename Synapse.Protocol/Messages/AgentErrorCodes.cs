namespace Synapse.Protocol.Messages;

/// <summary>Error codes an agent puts in <see cref="ResponseEnd"/>.</summary>
public static class AgentErrorCodes
{
    /// <summary>The upstream refused or dropped the connection before answering. Retryable.</summary>
    public const string UpstreamUnreachable = "upstream_unreachable";

    /// <summary>The upstream's answer could not be relayed (an invalid head); set by the gateway. Retryable.</summary>
    public const string UpstreamInvalidResponse = "upstream_invalid_response";

    /// <summary>The upstream failed after it started answering.</summary>
    public const string UpstreamError = "upstream_error";

    /// <summary>The agent is shutting down and takes no new requests. Retryable.</summary>
    public const string Draining = "agent_draining";

    /// <summary>The agent is already at its capacity for the model. Retryable.</summary>
    public const string Overloaded = "agent_overloaded";

    /// <summary>The gateway cancelled the request.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The request frames broke the protocol (for example a body over the frame limit).</summary>
    public const string BadRequest = "bad_request";

    /// <summary>The agent's socket closed while the request was in flight (set by the gateway).</summary>
    public const string AgentDisconnected = "agent_disconnected";

    /// <summary>The silo holding the agent's socket left the cluster (set by the gateway).</summary>
    public const string GatewayNodeLost = "gateway_node_lost";

    /// <summary>The response stopped arriving between gateway nodes (a stream queue lost with a silo); set by the gateway.</summary>
    public const string RelayInterrupted = "relay_interrupted";

    /// <summary>True when the path to the instance broke, not the instance: the same agent may serve a retry.</summary>
    public static bool IsPathFailure(string? code) =>
        code is AgentDisconnected or GatewayNodeLost or RelayInterrupted;

    /// <summary>Nothing arrived from the upstream for longer than the idle timeout (set by the gateway).</summary>
    public const string IdleTimeout = "idle_timeout";

    /// <summary>True for errors that happen before the upstream saw the request, so another instance may serve it.</summary>
    public static bool IsRetryable(string? code) =>
        code is UpstreamUnreachable or Draining or Overloaded or UpstreamInvalidResponse;
}
