namespace Synapse.Protocol.Transport;

/// <summary>Why a framed connection ended, for logs and for deciding whether to reconnect.</summary>
public enum ConnectionClosedReason
{
    None,
    ClosedByPeer,
    ClosedLocally,
    HeartbeatTimeout,
    ProtocolViolation,
    FrameTooLarge,
    SendQueueFull,
    TransportError,

    /// <summary>A send to the peer did not complete within the heartbeat timeout: the peer is not reading.</summary>
    SendStalled,
}
