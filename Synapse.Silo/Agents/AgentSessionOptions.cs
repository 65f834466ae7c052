using Synapse.Protocol;

namespace Synapse.Silo.Agents;

/// <summary>How the gateway treats agent sockets (section <c>Synapse:Agents</c>).</summary>
public sealed class AgentSessionOptions
{
    public const string SectionName = "Synapse:Agents";

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An agent silent for this long is declared dead and its requests fail.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Time an agent has, after the upgrade, to send its hello.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public int MaxFrameBytes { get; set; } = Protocol.Frames.ProtocolLimits.DefaultMaxFrameBytes;

    /// <summary>Response bytes an agent may send per request ahead of the caller reading them.</summary>
    public int InitialWindowBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// Bytes queued for one agent that does not read before it is disconnected. Every queued frame counts its pooled
    /// buffer plus a queue slot, not just its payload.
    /// </summary>
    public long MaxQueuedBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Bytes the send queues of all agent sockets of this silo may hold together; a socket that would pass it is cut.</summary>
    public long MaxTotalQueuedBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long an agent has to answer our close (after a refusal, say) before its socket is aborted.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the handshake may wait for the agent identity registry before the agent is told to retry.</summary>
    public TimeSpan IdentityTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often registrations are refreshed in the model grains (their lease).</summary>
    public TimeSpan RegistrationRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>After a refresh failed (a model grain's silo just died), the next one comes this soon, not a period later.</summary>
    public TimeSpan RegistrationRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Oldest agent protocol accepted; older agents keep working, without what later versions added.</summary>
    public int MinProtocolVersion { get; set; } = ProtocolVersion.Oldest;

    /// <summary>Newest agent protocol accepted.</summary>
    public int MaxProtocolVersion { get; set; } = ProtocolVersion.Current;
}
