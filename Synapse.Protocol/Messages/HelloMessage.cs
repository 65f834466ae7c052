namespace Synapse.Protocol.Messages;

/// <summary>The agent's first frame: who it is, what it serves and how many requests at once.</summary>
public sealed record HelloMessage
{
    public required int ProtocolVersion { get; init; }

    public required string ProductVersion { get; init; }

    /// <summary>Stable across reconnects and restarts, so re-registration is idempotent.</summary>
    public required string AgentId { get; init; }

    public string? Name { get; init; }

    public string? Hostname { get; init; }

    /// <summary>How many requests per model the upstream takes at once.</summary>
    public required int Capacity { get; init; }

    public required IReadOnlyList<ModelAdvert> Models { get; init; }

    public string? Os { get; init; }

    public string? Arch { get; init; }

    /// <summary>How many times this agent process connected before (reconnects, for the gateway's metrics).</summary>
    public int Reconnects { get; init; }

    /// <summary>True when the binary was installed by the gateway's <c>/run</c> script and may replace itself.</summary>
    public bool SelfUpdate { get; init; }

    /// <summary>
    /// Random, made at process start and shared by all of the process's sockets: sockets with the same agent id and
    /// token are one instance, and another process claiming a live agent's id is refused. Agents before it send none.
    /// </summary>
    public string? InstanceToken { get; init; }
}
