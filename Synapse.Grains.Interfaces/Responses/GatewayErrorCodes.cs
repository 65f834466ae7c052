namespace Synapse.Grains.Responses;

/// <summary>
/// Error codes the gateway itself puts on a response's end (they travel between silos, never to or from an agent;
/// the agent's own codes are <c>Synapse.Protocol.Messages.AgentErrorCodes</c>).
/// </summary>
public static class GatewayErrorCodes
{
    /// <summary>The agent's socket closed while the request was in flight.</summary>
    public const string AgentDisconnected = "agent_disconnected";

    /// <summary>The silo holding the agent's socket left the cluster.</summary>
    public const string GatewayNodeLost = "gateway_node_lost";

    /// <summary>The response stopped arriving between gateway nodes (a stream queue lost with a silo).</summary>
    public const string RelayInterrupted = "relay_interrupted";

    /// <summary>Nothing arrived from the upstream for longer than the idle timeout.</summary>
    public const string IdleTimeout = "idle_timeout";

    /// <summary>The agent sent a response head HTTP cannot carry.</summary>
    public const string UpstreamInvalidResponse = "upstream_invalid_response";

    /// <summary>The agent sent more than its flow-control window.</summary>
    public const string WindowExceeded = "window_exceeded";
}
