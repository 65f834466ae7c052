using Orleans.Placement;
using Synapse.Grains.Models;
using Synapse.Grains.Placement;

namespace Synapse.Grains.Agents;

/// <summary>Answers for the agent sockets held by the silo it is pinned to.</summary>
[SiloPinnedPlacement, Immovable, Reentrant]
internal sealed class SiloDirectoryGrain(ILocalAgentConnections connections) : Grain, ISiloDirectoryGrain
{
    public Task<InstanceRegistration[]> GetRegistrations(string modelKey)
    {
        var (group, model) = ModelKey.Parse(modelKey);
        return Task.FromResult(connections.All.Where(c => c.Group == group).SelectMany(c => c.GetRegistrations(model)).ToArray());
    }

    public Task<AdvertisedModel[]> GetModels() =>
        Task.FromResult(connections.All
            .SelectMany(c => c.GetRegistrations(model: null))
            .Where(r => !r.Draining)
            .Select(r => new AdvertisedModel { ModelId = r.Model, AgentId = r.AgentId, MetadataJson = r.MetadataJson, Group = r.Group })
            .ToArray());

    public Task<AgentConnectionStatus[]> GetAgents() =>
        Task.FromResult(connections.All.Select(c => c.GetStatus()).ToArray());

    public Task<AgentClaim[]> GetClaims(string identityKey) =>
        Task.FromResult(connections.All
            .Select(c => c.Claim)
            .OfType<AgentClaim>()
            .Where(c => AgentIdentityKey.For(c.Group, c.AgentId) == identityKey)
            .ToArray());

    public Task<string[]> GetLiveConnections(string[] connectionIds) =>
        Task.FromResult(connectionIds.Where(id => connections.TryGet(id, out _)).ToArray());
}
