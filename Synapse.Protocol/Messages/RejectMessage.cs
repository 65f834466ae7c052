namespace Synapse.Protocol.Messages;

/// <summary>The gateway refuses the handshake; the agent prints <see cref="Reason"/> and stops or updates itself.</summary>
public sealed record RejectMessage
{
    public required string Code { get; init; }

    public required string Reason { get; init; }

    public required string ServerVersion { get; init; }

    public required int ProtocolVersion { get; init; }

    /// <summary>Oldest agent protocol the gateway accepts.</summary>
    public int MinProtocolVersion { get; init; }

    /// <summary>Newest agent protocol the gateway accepts.</summary>
    public int MaxProtocolVersion { get; init; }

    /// <summary>Where the matching agent binary can be downloaded, when the gateway serves one.</summary>
    public string? DownloadUrl { get; init; }

    public const string VersionMismatch = "version_mismatch";
    public const string InvalidHello = "invalid_hello";
    public const string ShuttingDown = "shutting_down";

    /// <summary>Another agent process holds this agent id on live sockets. Retry: it is free once they are gone.</summary>
    public const string AgentIdInUse = "agent_id_in_use";

    /// <summary>Close reason when the agent's key was removed or moved to another group by a reload.</summary>
    public const string KeyRevoked = "key_revoked";

    /// <summary>The gateway could not check the agent's identity just now. Retry.</summary>
    public const string RegistryUnavailable = "registry_unavailable";

    /// <summary>True for refusals that a later attempt may overcome; the others need the operator.</summary>
    public static bool IsRetryable(string code) => code is AgentIdInUse or RegistryUnavailable or ShuttingDown;
}
