using Orleans.Concurrency;
using Synapse.Grains.Agents;

namespace Synapse.Grains.Models;

/// <summary>
/// One per model name. Tracks the live instances serving the model and picks one per request. Its state lives only
/// in memory and is rebuilt from the silos holding the sockets, so it heals when its own silo dies.
/// </summary>
[Alias("synapse.IModelGrain")]
public interface IModelGrain : IGrainWithStringKey
{
    /// <summary>Idempotent upsert, refreshed by the socket's silo every heartbeat period (a lease).</summary>
    [Alias("Register")]
    Task Register(InstanceRegistration registration);

    /// <summary>
    /// The periodic refresh of every socket of one silo serving this model, in one call: a silo with 1,000 idle
    /// agents makes one call per model per period instead of 1,000.
    /// </summary>
    [Alias("RegisterMany")]
    Task RegisterMany(InstanceRegistration[] registrations);

    [Alias("Unregister")]
    Task Unregister(string agentId, string connectionId);

    /// <summary>Picks an instance, waiting in the model's queue while all are full.</summary>
    [Alias("Acquire"), ResponseTimeout("00:10:00")]
    Task<AcquireResult> Acquire(AcquireRequest request, CancellationToken cancellationToken);

    /// <summary>An instance's engine load changed (queue, KV cache); one-way, as the next change makes a lost one moot.</summary>
    [Alias("ReportEngineLoad"), OneWay]
    Task ReportEngineLoad(EngineReport report);

    [Alias("Release")]
    Task Release(long requestId, LeaseOutcome outcome);

    [Alias("GetSnapshot"), ReadOnly]
    Task<ModelSnapshot> GetSnapshot();
}
