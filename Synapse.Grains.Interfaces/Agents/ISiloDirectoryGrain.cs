using Orleans.Concurrency;
namespace Synapse.Grains.Agents;

/// <summary>
/// The agents whose sockets one silo holds. One activation per silo, pinned to it. The sockets are the truth: model
/// grains rebuild from here after their silo dies, and <c>GET /v1/models</c> merges the answers of every silo.
/// </summary>
[Alias("synapse.ISiloDirectoryGrain")]
public interface ISiloDirectoryGrain : IGrainWithStringKey
{
    /// <summary>The registrations of this silo's sockets for one model grain (its key: group and model).</summary>
    [Alias("GetRegistrations"), ReadOnly]
    Task<InstanceRegistration[]> GetRegistrations(string modelKey);

    [Alias("GetModels"), ReadOnly]
    Task<AdvertisedModel[]> GetModels();

    [Alias("GetAgents"), ReadOnly]
    Task<AgentConnectionStatus[]> GetAgents();

    /// <summary>The identity claims of this silo's sockets that belong to one identity grain (its key).</summary>
    [Alias("GetClaims"), ReadOnly]
    Task<AgentClaim[]> GetClaims(string identityKey);

    /// <summary>Which of these sockets this silo still holds.</summary>
    [Alias("GetLiveConnections"), ReadOnly]
    Task<string[]> GetLiveConnections(string[] connectionIds);
}
