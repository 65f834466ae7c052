using Synapse.Grains.Agents;

namespace Synapse.Grains.Models;

/// <summary>
/// A change in one instance's engine load for one model, sent to the model grain by the silo holding the agent's
/// socket as soon as the agent's frame arrives (the registration refresh carries it too, seconds later).
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.EngineReport")]
public sealed record EngineReport
{
    [Id(0)] public required string AgentId { get; init; }

    /// <summary>The new load; null when the agent has no reading any more (the engine stopped answering, or signals are off).</summary>
    [Id(1)] public EngineLoad? Load { get; init; }

    /// <summary>When the silo received it; an older report arriving late never replaces a newer one.</summary>
    [Id(2)] public required DateTimeOffset At { get; init; }
}
