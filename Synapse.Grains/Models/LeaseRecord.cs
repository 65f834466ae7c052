namespace Synapse.Grains.Models;

/// <summary>A request counted against an instance's capacity until it is released or found to have ended.</summary>
internal sealed record LeaseRecord(long RequestId, string AgentId, string ConnectionId, long StartedTick);
