namespace Synapse.Protocol.Messages;

/// <summary>
/// Error codes an agent puts in <see cref="ResponseEnd"/>, as they travel on the wire. What the gateway makes of
/// them (retry elsewhere, which status) is the gateway's business.
/// </summary>
public static class AgentErrorCodes
{
    /// <summary>The upstream refused or dropped the connection before answering.</summary>
    public const string UpstreamUnreachable = "upstream_unreachable";

    /// <summary>The upstream failed after it started answering.</summary>
    public const string UpstreamError = "upstream_error";

    /// <summary>The agent is shutting down and takes no new requests.</summary>
    public const string Draining = "agent_draining";

    /// <summary>The agent is already at its capacity for the model.</summary>
    public const string Overloaded = "agent_overloaded";

    /// <summary>The gateway cancelled the request.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The request frames broke the protocol (for example a body over the frame limit).</summary>
    public const string BadRequest = "bad_request";
}
