using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Synapse.Grains.Agents;
using Synapse.Grains.Balancing;
using Synapse.Grains.Cluster;

namespace Synapse.Grains.Models;

/// <summary>
/// The instances and their sockets: registrations refreshed as leases, leases reconciled against what the sockets
/// report, sockets dropped when their silo dies or stops refreshing, all rebuilt from the silos after a fresh activation.
/// </summary>
internal sealed partial class ModelGrain
{
    private void Upsert(InstanceRegistration registration, bool adoptActiveRequests)
    {
        if (!_instances.TryGetValue(registration.AgentId, out var instance))
        {
            instance = new ModelInstance(registration.AgentId);
            _instances.Add(registration.AgentId, instance);
            _ringStale = true;
            LogInstanceAdded(_logger, Model, registration.AgentId, registration.Name, registration.Silo);
        }

        instance.Name = registration.Name;
        instance.Hostname = registration.Hostname;
        instance.AgentVersion = registration.AgentVersion;
        instance.Capacity = Math.Max(1, registration.Capacity);
        instance.MetadataJson = registration.MetadataJson;
        if (registration.Engine is { } engine)
        {
            instance.Engine.Update(engine, engine.ReceivedAt);
        }

        if (!instance.Connections.TryGetValue(registration.ConnectionId, out var connection))
        {
            connection = new InstanceConnection(registration.ConnectionId, registration.Silo);
            instance.Connections.Add(registration.ConnectionId, connection);
        }

        connection.Draining = registration.Draining;
        connection.LastRefreshTick = Environment.TickCount64;
        connection.LastRefresh = DateTimeOffset.UtcNow;
        _lastInstanceSeenTick = Environment.TickCount64;

        if (adoptActiveRequests)
        {
            foreach (var requestId in registration.ActiveRequests)
            {
                if (_leases.TryAdd(requestId, new LeaseRecord(requestId, instance.AgentId, connection.ConnectionId, Environment.TickCount64)))
                {
                    instance.InFlight++;
                }
            }
        }
        else
        {
            ReconcileLeases(instance, connection, registration.ActiveRequests);
        }
    }

    /// <summary>
    /// Drops leases the socket's silo no longer reports in flight, once they are old enough that the report cannot
    /// predate them. However a request ends (its caller's silo died, a release was lost), its count returns to 0.
    /// </summary>
    private void ReconcileLeases(ModelInstance instance, InstanceConnection connection, long[] active)
    {
        if (instance.InFlight == 0)
        {
            return;
        }

        var graceTicks = (long)_options.RegistrationTtl.TotalMilliseconds;
        var now = Environment.TickCount64;
        List<long>? stale = null;
        foreach (var lease in _leases.Values)
        {
            if (lease.ConnectionId == connection.ConnectionId
                && now - lease.StartedTick > graceTicks
                && Array.IndexOf(active, lease.RequestId) < 0)
            {
                (stale ??= []).Add(lease.RequestId);
            }
        }

        if (stale is null)
        {
            return;
        }

        foreach (var requestId in stale)
        {
            _leases.Remove(requestId);
            instance.InFlight = Math.Max(0, instance.InFlight - 1);
        }

        LogLeasesReconciled(_logger, Model, instance.AgentId, stale.Count);
    }

    private void RemoveConnection(ModelInstance instance, string connectionId, string reason)
    {
        if (!instance.Connections.Remove(connectionId))
        {
            return;
        }

        List<long>? orphaned = null;
        foreach (var lease in _leases.Values)
        {
            if (lease.ConnectionId == connectionId)
            {
                (orphaned ??= []).Add(lease.RequestId);
            }
        }

        foreach (var requestId in orphaned ?? [])
        {
            _leases.Remove(requestId);
            instance.InFlight = Math.Max(0, instance.InFlight - 1);
        }

        if (instance.Connections.Count == 0)
        {
            _instances.Remove(instance.AgentId);
            _ringStale = true;
            LogInstanceRemoved(_logger, Model, instance.AgentId, reason);
        }

        DrainQueue();
    }

    private Task PruneAsync(CancellationToken cancellationToken)
    {
        var ttl = (long)_options.RegistrationTtl.TotalMilliseconds;
        var now = Environment.TickCount64;
        List<(ModelInstance, string, string)>? expired = null;
        foreach (var instance in _instances.Values)
        {
            foreach (var connection in instance.Connections.Values)
            {
                if (SiloStatusOf(connection.Silo) == SiloStatus.Dead)
                {
                    (expired ??= []).Add((instance, connection.ConnectionId, "silo dead"));
                }
                else if (now - connection.LastRefreshTick > ttl)
                {
                    (expired ??= []).Add((instance, connection.ConnectionId, "registration expired"));
                }
            }
        }

        foreach (var (instance, connectionId, reason) in expired ?? [])
        {
            RemoveConnection(instance, connectionId, reason);
        }

        if (_instances.Count > 0)
        {
            _lastInstanceSeenTick = now;
            DelayDeactivation(TimeSpan.FromMinutes(1));
        }

        return Task.CompletedTask;
    }

    private async Task RebuildAsync(CancellationToken cancellationToken)
    {
        var silos = SiloFanOut.Reachable(_membership);
        var answers = await SiloFanOut.AskDirectoriesAsync(GrainFactory, silos, d => d.GetRegistrations(this.GetPrimaryKeyString()), _options.RebuildTimeout, cancellationToken);
        foreach (var silent in answers.Where(a => !a.Answered))
        {
            LogRebuildSiloFailed(_logger, silent.Failure!, Model, silent.Silo);
        }

        var count = 0;
        foreach (var registration in answers.Where(a => a.Answered).SelectMany(a => a.Value!))
        {
            Upsert(registration, adoptActiveRequests: true);
            count++;
        }

        if (count > 0)
        {
            LogRebuilt(_logger, Model, count, silos.Length);
        }
    }

    private void Record(ModelInstance instance, LeaseOutcome outcome)
    {
        if (outcome.Succeeded)
        {
            instance.ConsecutiveFailures = 0;
            instance.CooldownUntilTick = 0;
            instance.RecordLatency(outcome.TimeToHeadMs);
        }
        else if (outcome.FailedBeforeResponse
            && !outcome.PathFailure
            && ++instance.ConsecutiveFailures >= _options.FailuresBeforeCooldown)
        {
            instance.CooldownUntilTick = Environment.TickCount64 + (long)_options.Cooldown.TotalMilliseconds;
            LogCooldown(_logger, Model, instance.AgentId, instance.ConsecutiveFailures);
        }
    }
}
