namespace Synapse.Protocol.Transport;

/// <summary>Limits and timers for one framed WebSocket, the same on both ends.</summary>
public sealed class FramedConnectionOptions
{
    /// <summary>Largest message accepted; a larger one closes the connection with 1009.</summary>
    public int MaxFrameBytes { get; set; } = Frames.ProtocolLimits.DefaultMaxFrameBytes;

    /// <summary>How often a ping is sent when nothing else is.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Silence after which the peer is declared dead and the socket aborted.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Bytes allowed to wait for the socket. A peer that stops reading fills this and is disconnected, instead of
    /// growing our memory without bound.
    /// </summary>
    public long MaxQueuedBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// Shared by every connection of a process that must bound their send queues together (the gateway's agent
    /// sockets); null for none. A connection that cannot take its frame's cost from it is cut.
    /// </summary>
    public SendQueueBudget? SharedBudget { get; set; }

    /// <summary>
    /// How long a polite close handshake may take before the socket is aborted. Once a close is sent nothing the
    /// peer sends is read as protocol any more, so a peer ignoring the close only keeps its socket this long.
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
