using Synapse.Protocol.Messages;

namespace Synapse.Client.Gateway;

internal enum ConnectionOutcomeKind
{
    /// <summary>The agent is stopping.</summary>
    Stopped,

    /// <summary>Could not connect, or the socket broke; try again after a backoff.</summary>
    Failed,

    /// <summary>The socket closed after working for a while; reconnect.</summary>
    Closed,

    /// <summary>The gateway refused the WebSocket key: retrying cannot help.</summary>
    Unauthorized,

    /// <summary>The gateway refused the handshake (version, invalid hello).</summary>
    Rejected,

    /// <summary>This socket reached a silo another socket of this agent already holds.</summary>
    DuplicateSilo,
}

internal sealed record ConnectionOutcome(ConnectionOutcomeKind Kind, string Detail, TimeSpan Welcomed = default, RejectMessage? Rejection = null);
