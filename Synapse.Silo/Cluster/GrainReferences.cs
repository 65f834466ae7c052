using System.Collections.Concurrent;
using Synapse.Grains.Agents;
using Synapse.Grains.Models;

namespace Synapse.Silo.Cluster;

/// <summary>
/// Grain references for the request path, made once per key. <c>IGrainFactory.GetGrain</c> resolves the interface
/// type by reflection on every call (about a quarter of a request's time in the silo, profiled); a reference is
/// immutable and safe to share. The caches are bounded because keys come from callers (model names).
/// </summary>
internal sealed class GrainReferences(IGrainFactory grains)
{
    private const int MaxCached = 10_000;

    private readonly ConcurrentDictionary<string, IModelGrain> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IAgentConnectionGrain> _connections = new(StringComparer.Ordinal);

    public IModelGrain Model(string model) => Get(_models, model, static (g, k) => g.GetGrain<IModelGrain>(k));

    public IAgentConnectionGrain Connection(string connectionId) =>
        Get(_connections, connectionId, static (g, k) => g.GetGrain<IAgentConnectionGrain>(k));

    private TGrain Get<TGrain>(ConcurrentDictionary<string, TGrain> cache, string key, Func<IGrainFactory, string, TGrain> create)
    {
        if (cache.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var created = create(grains, key);
        if (cache.Count >= MaxCached)
        {
            // Connection ids churn as agents reconnect: start over rather than grow without bound.
            cache.Clear();
        }

        cache.TryAdd(key, created);
        return created;
    }
}
