using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Synapse.Grains.Agents;
using Synapse.Grains.Balancing;

namespace Synapse.Grains.Models;

/// <summary>Choosing an instance and a socket for a request, and handing freed capacity to the queue in order.</summary>
internal sealed partial class ModelGrain
{
    private PickOutcome TryPick(AcquireRequest request, out Lease? lease)
    {
        lease = null;
        var now = Environment.TickCount64;
        var anyLive = false;
        var anyHealthy = false;
        var totalLoad = 0;
        var totalCapacity = 0;
        _candidates.Clear();
        foreach (var instance in _instances.Values)
        {
            if (Array.IndexOf(request.ExcludedAgents, instance.AgentId) >= 0 || !HasUsableConnection(instance, request.ExcludedConnections))
            {
                continue;
            }

            anyLive = true;
            totalLoad += instance.Occupancy;
            totalCapacity += instance.Capacity;
            if (instance.InFlight >= instance.Capacity)
            {
                continue;
            }

            var healthy = instance.CooldownUntilTick <= now;
            if (healthy && !anyHealthy)
            {
                // Instances cooling down after failures serve only when nothing healthy can.
                anyHealthy = true;
                _candidates.Clear();
            }

            if (healthy || !anyHealthy)
            {
                _candidates.Add(instance);
            }
        }

        if (_candidates.Count == 0)
        {
            return anyLive ? PickOutcome.Full : PickOutcome.NoInstance;
        }

        SetAsideFullCaches();
        var picked = PickByAffinity(request.AffinityKey, totalLoad, totalCapacity)
            ?? PreferLocal(_policy.Pick(_candidates, _balancing), request.CallerSilo);
        if (request.AffinityKey != 0 && _affinityOn)
        {
            _affinity.Remember(request.AffinityKey, picked.AgentId);
        }
        ModelInstance.Picked(picked, _candidates);
        var connection = PickConnection(picked, request);
        picked.InFlight++;
        picked.Engine.Started();
        _leases[request.RequestId] = new LeaseRecord(request.RequestId, picked.AgentId, connection.ConnectionId, now);
        lease = new Lease
        {
            RequestId = request.RequestId,
            AgentId = picked.AgentId,
            ConnectionId = connection.ConnectionId,
            Silo = connection.Silo,
            AgentName = picked.Name,
        };
        return PickOutcome.Picked;
    }

    /// <summary>
    /// Drops candidates whose engine reports its KV cache above the threshold, unless all do: a full cache preempts
    /// running requests and throws away cached prefixes, so another instance serves sooner even with a longer queue.
    /// </summary>
    private void SetAsideFullCaches()
    {
        var threshold = _options.KvUsageThreshold;
        var full = 0;
        foreach (var candidate in _candidates)
        {
            if (candidate.Engine.KvUsage > threshold)
            {
                full++;
            }
        }

        if (full > 0 && full < _candidates.Count)
        {
            _candidates.RemoveAll(c => c.Engine.KvUsage > threshold);
        }
    }

    /// <summary>
    /// The instance holding this conversation's prefix while its load is within bounds and, where engines report
    /// their queues, while it would start the request as soon as any (a cached prefix saves a prefill, not a place in
    /// a longer or slower queue); null without a key or affinity.
    /// </summary>
    private ModelInstance? PickByAffinity(ulong key, int totalLoad, int totalCapacity)
    {
        if (key == 0 || !_affinityOn)
        {
            return null;
        }

        if (_ringStale)
        {
            _affinity.Rebuild(_instances.Keys);
            _ringStale = false;
        }

        var home = _affinity.Pick(key, _candidates, _options.Affinity.LoadBound, totalLoad, totalCapacity);
        return home is not null && EngineAwarePolicy.StartsLater(home, _candidates) ? null : home;
    }

    /// <summary>
    /// Keeps requests on the caller's silo (no cross-silo hop) when a local instance is about as loaded as the one
    /// the policy chose, so locality never unbalances the instances by more than the tolerance.
    /// </summary>
    private ModelInstance PreferLocal(ModelInstance picked, SiloAddress callerSilo)
    {
        if (picked.HasConnectionOn(callerSilo))
        {
            return picked;
        }

        ModelInstance? bestLocal = null;
        foreach (var candidate in _candidates)
        {
            if (candidate.HasConnectionOn(callerSilo) && (bestLocal is null || ModelInstance.CompareLoad(candidate, bestLocal) < 0))
            {
                bestLocal = candidate;
            }
        }

        if (bestLocal is null)
        {
            return picked;
        }

        var localLoad = (bestLocal.InFlight + 1.0) / Math.Max(1, bestLocal.Capacity);
        var pickedLoad = (picked.InFlight + 1.0) / Math.Max(1, picked.Capacity);
        return localLoad <= pickedLoad + _options.LocalityTolerance ? bestLocal : picked;
    }

    private InstanceConnection PickConnection(ModelInstance instance, AcquireRequest request)
    {
        InstanceConnection? any = null;
        var seen = 0;
        foreach (var connection in instance.Connections.Values)
        {
            if (!IsUsable(connection) || Array.IndexOf(request.ExcludedConnections, connection.ConnectionId) >= 0)
            {
                continue;
            }

            if (connection.Silo.Equals(request.CallerSilo))
            {
                return connection;
            }

            if (_balancing.Random.Next(++seen) == 0)
            {
                any = connection;
            }
        }

        return any ?? throw new InvalidOperationException("Picked an instance without a usable connection.");
    }

    private void DrainQueue()
    {
        var node = _queue.First;
        while (node is not null)
        {
            var next = node.Next;
            var waiter = node.Value;
            if (waiter.Completion.Task.IsCompleted)
            {
                _queue.Remove(node);
                node = next;
                continue;
            }

            var outcome = TryPick(waiter.Request, out var lease);
            if (outcome == PickOutcome.Picked)
            {
                _queue.Remove(node);
                if (!waiter.Completion.TrySetResult(lease))
                {
                    // It timed out between the check and now: give the slot back and offer it to the next one.
                    Rollback(lease!);
                    next = _queue.First;
                }
            }
            else if (outcome == PickOutcome.Full && waiter.Request.ExcludedAgents.Length == 0 && waiter.Request.ExcludedConnections.Length == 0)
            {
                // Nobody behind this waiter can be served either; keep the order.
                return;
            }

            node = next;
        }
    }

    private void Rollback(Lease lease)
    {
        _leases.Remove(lease.RequestId);
        if (_instances.TryGetValue(lease.AgentId, out var instance))
        {
            instance.InFlight = Math.Max(0, instance.InFlight - 1);
        }
    }
}
