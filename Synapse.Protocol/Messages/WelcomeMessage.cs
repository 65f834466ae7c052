namespace Synapse.Protocol.Messages;

/// <summary>The gateway's answer to an accepted <see cref="HelloMessage"/>, with the settings the agent must follow.</summary>
public sealed record WelcomeMessage
{
    public required int ProtocolVersion { get; init; }

    public required string ServerVersion { get; init; }

    /// <summary>Identifies the silo holding this socket, so an agent can spread its connections over silos.</summary>
    public required string SiloId { get; init; }

    public required string ConnectionId { get; init; }

    /// <summary>How many silos the cluster had when the agent connected.</summary>
    public required int SiloCount { get; init; }

    public required int HeartbeatIntervalMs { get; init; }

    public required int HeartbeatTimeoutMs { get; init; }

    public required int MaxFrameBytes { get; init; }

    /// <summary>Response bytes the agent may send per request before the gateway grants more.</summary>
    public required int InitialWindowBytes { get; init; }
}
