namespace Synapse.Grains.Agents;

/// <summary>
/// One socket's claim to an agent identity: sockets of one agent process share its instance token, so they are one
/// instance; another process claiming the same id while those sockets live is refused.
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.AgentClaim")]
public sealed record AgentClaim
{
    /// <summary>The key group the agent authenticated into; identities of different groups never meet.</summary>
    [Id(0)] public required string Group { get; init; }

    [Id(1)] public required string AgentId { get; init; }

    /// <summary>Random per agent process. Never shown anywhere: who knows it can join the instance.</summary>
    [Id(2)] public required string InstanceToken { get; init; }

    [Id(3)] public required string ConnectionId { get; init; }

    [Id(4)] public required SiloAddress Silo { get; init; }
}
