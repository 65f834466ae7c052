using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Synapse.Grains.Agents;
using Synapse.Grains.Balancing;

namespace Synapse.Grains.Models;

/// <summary>
/// Tracks the instances of one model and leases one per request. State is in memory only: the silos holding the
/// sockets refresh it every heartbeat period and rebuild it when this grain is activated afresh (its silo died),
/// so it heals by itself. Reentrant because requests wait here when every instance is full; nothing below awaits
/// between reading and writing state except the queue wait itself.
/// </summary>
[Reentrant]
[CollectionAgeLimit(Minutes = 5)]
internal sealed partial class ModelGrain : Grain, IModelGrain
{
    private readonly Dictionary<string, ModelInstance> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<long, LeaseRecord> _leases = [];
    private readonly LinkedList<Waiter> _queue = new();
    private readonly List<ModelInstance> _candidates = [];
    private readonly LoadBalancingState _balancing = new();
    private readonly ModelGrainOptions _options;
    private readonly ILoadBalancingPolicy _policy;
    private readonly IClusterMembershipService _membership;
    private readonly ILogger<ModelGrain> _logger;
    private long _lastInstanceSeenTick = long.MinValue;

    public ModelGrain(
        IOptions<ModelGrainOptions> options,
        IEnumerable<ILoadBalancingPolicy> policies,
        IClusterMembershipService membership,
        ILogger<ModelGrain> logger)
    {
        _options = options.Value;
        _policy = policies.First(p => string.Equals(p.Name, _options.Policy, StringComparison.OrdinalIgnoreCase));
        _membership = membership;
        _logger = logger;
    }

    private string Model => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(PruneAsync, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.FromSeconds(1),
            Period = TimeSpan.FromSeconds(1),
            Interleave = true,
            KeepAlive = false,
        });
        await RebuildAsync(cancellationToken);
    }

    public Task Register(InstanceRegistration registration)
    {
        Upsert(registration, adoptActiveRequests: false);
        DrainQueue();
        return Task.CompletedTask;
    }

    public Task Unregister(string agentId, string connectionId)
    {
        if (_instances.TryGetValue(agentId, out var instance))
        {
            RemoveConnection(instance, connectionId, "unregistered");
        }

        return Task.CompletedTask;
    }

    public async Task<AcquireResult> Acquire(AcquireRequest request, CancellationToken cancellationToken)
    {
        var outcome = TryPick(request, out var lease);
        if (outcome == PickOutcome.Picked)
        {
            return new AcquireResult { Status = AcquireStatus.Granted, Lease = lease };
        }

        TimeSpan wait;
        if (outcome == PickOutcome.Full)
        {
            wait = request.QueueTimeout ?? _options.QueueTimeout;
        }
        else if (RecentlySeen(_options.ForgetModelAfter))
        {
            // Instances left a moment ago; agents usually come back within a reconnect.
            wait = RecentlySeen(_options.ReconnectGrace + _options.ReconnectGrace) ? request.ReconnectGrace ?? _options.ReconnectGrace : TimeSpan.Zero;
        }
        else
        {
            // Nobody serves this model, nor did lately: there is nothing here worth keeping, and a caller naming
            // random models must not leave an activation behind for each of them until the collection age. (A
            // registration racing with this is rebuilt from the silos by the next activation.)
            if (_instances.Count == 0 && _leases.Count == 0 && _queue.Count == 0)
            {
                DeactivateOnIdle();
            }

            return AcquireResult.Of(AcquireStatus.UnknownModel);
        }

        if (wait <= TimeSpan.Zero)
        {
            return AcquireResult.Of(AcquireStatus.NoLiveInstance, RetryAfterSeconds(_options.ReconnectGrace));
        }

        if (_queue.Count >= _options.MaxQueueLength)
        {
            LogQueueFull(_logger, Model, _queue.Count);
            return AcquireResult.Of(AcquireStatus.QueueFull, RetryAfterSeconds(TimeSpan.FromSeconds(1)));
        }

        var waiter = new Waiter(request);
        waiter.Node = _queue.AddLast(waiter);
        var started = Environment.TickCount64;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        await using (timeout.Token.Register(static w => ((Waiter)w!).Completion.TrySetResult(null), waiter))
        {
            var granted = await waiter.Completion.Task;
            if (waiter.Node.List is not null)
            {
                _queue.Remove(waiter.Node);
            }

            var queued = TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
            if (granted is not null)
            {
                return new AcquireResult { Status = AcquireStatus.Granted, Lease = granted, Queued = queued };
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return AcquireResult.Of(AcquireStatus.Cancelled);
            }

            return outcome == PickOutcome.Full && HasLiveInstance()
                ? AcquireResult.Of(AcquireStatus.QueueTimeout, RetryAfterSeconds(wait))
                : AcquireResult.Of(AcquireStatus.NoLiveInstance, RetryAfterSeconds(_options.ReconnectGrace));
        }
    }

    public Task Release(long requestId, LeaseOutcome outcome)
    {
        if (!_leases.Remove(requestId, out var lease))
        {
            return Task.CompletedTask;
        }

        if (_instances.TryGetValue(lease.AgentId, out var instance))
        {
            instance.InFlight = Math.Max(0, instance.InFlight - 1);
            Record(instance, outcome);
        }

        DrainQueue();
        return Task.CompletedTask;
    }

    public Task<ModelSnapshot> GetSnapshot()
    {
        var instances = _instances.Values.Select(i => new InstanceSnapshot
        {
            AgentId = i.AgentId,
            Name = i.Name,
            Hostname = i.Hostname,
            Capacity = i.Capacity,
            InFlight = i.InFlight,
            Silos = [.. i.Connections.Values.Select(c => c.Silo.ToString())],
            State = StateOf(i),
            LatencyMs = Math.Round(i.LatencyMs, 1),
            LastRefresh = i.Connections.Values.Select(c => c.LastRefresh).DefaultIfEmpty().Max(),
            ConsecutiveFailures = i.ConsecutiveFailures,
        }).ToArray();
        return Task.FromResult(new ModelSnapshot
        {
            Model = Model,
            Instances = instances,
            Queued = _queue.Count,
            Policy = _policy.Name,
        });
    }

    private PickOutcome TryPick(AcquireRequest request, out Lease? lease)
    {
        lease = null;
        var now = Environment.TickCount64;
        var anyLive = false;
        var anyHealthy = false;
        _candidates.Clear();
        foreach (var instance in _instances.Values)
        {
            if (Array.IndexOf(request.ExcludedAgents, instance.AgentId) >= 0 || !HasUsableConnection(instance, request.ExcludedConnections))
            {
                continue;
            }

            anyLive = true;
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

        var picked = PreferLocal(_policy.Pick(_candidates, _balancing), request.CallerSilo);
        var connection = PickConnection(picked, request);
        picked.InFlight++;
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

    private void Upsert(InstanceRegistration registration, bool adoptActiveRequests)
    {
        if (!_instances.TryGetValue(registration.AgentId, out var instance))
        {
            instance = new ModelInstance(registration.AgentId);
            _instances.Add(registration.AgentId, instance);
            LogInstanceAdded(_logger, Model, registration.AgentId, registration.Name, registration.Silo);
        }

        instance.Name = registration.Name;
        instance.Hostname = registration.Hostname;
        instance.AgentVersion = registration.AgentVersion;
        instance.Capacity = Math.Max(1, registration.Capacity);
        instance.MetadataJson = registration.MetadataJson;

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
        var silos = _membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status is SiloStatus.Active or SiloStatus.ShuttingDown)
            .Select(m => m.SiloAddress)
            .ToArray();
        var calls = silos.Select(async silo =>
        {
            try
            {
                return await GrainFactory.GetGrain<ISiloDirectoryGrain>(AgentConnectionKey.ForSilo(silo))
                    .GetRegistrations(Model)
                    .WaitAsync(_options.RebuildTimeout, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogRebuildSiloFailed(_logger, ex, Model, silo);
                return [];
            }
        });

        var registrations = await Task.WhenAll(calls);
        var count = 0;
        foreach (var registration in registrations.SelectMany(r => r))
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
            instance.LatencyMs = instance.LatencyMs == 0
                ? outcome.TimeToHeadMs
                : (0.8 * instance.LatencyMs) + (0.2 * outcome.TimeToHeadMs);
        }
        else if (outcome.FailedBeforeResponse
            && !outcome.PathFailure
            && ++instance.ConsecutiveFailures >= _options.FailuresBeforeCooldown)
        {
            instance.CooldownUntilTick = Environment.TickCount64 + (long)_options.Cooldown.TotalMilliseconds;
            LogCooldown(_logger, Model, instance.AgentId, instance.ConsecutiveFailures);
        }
    }

    private bool HasUsableConnection(ModelInstance instance, string[]? excluded = null)
    {
        foreach (var connection in instance.Connections.Values)
        {
            if (IsUsable(connection) && (excluded is null || Array.IndexOf(excluded, connection.ConnectionId) < 0))
            {
                return true;
            }
        }

        return false;
    }

    private bool HasLiveInstance() => _instances.Values.Any(i => HasUsableConnection(i));

    private bool IsUsable(InstanceConnection connection) =>
        !connection.Draining && SiloStatusOf(connection.Silo) is not (SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping);

    private SiloStatus SiloStatusOf(SiloAddress silo) =>
        _membership.CurrentSnapshot.Members.TryGetValue(silo, out var member) ? member.Status : SiloStatus.None;

    private bool RecentlySeen(TimeSpan window) =>
        _lastInstanceSeenTick != long.MinValue
        && Environment.TickCount64 - _lastInstanceSeenTick <= window.TotalMilliseconds;

    private string StateOf(ModelInstance instance)
    {
        if (!HasUsableConnection(instance))
        {
            return "draining";
        }

        if (instance.CooldownUntilTick > Environment.TickCount64)
        {
            return "unhealthy";
        }

        return instance.InFlight >= instance.Capacity ? "full" : "ready";
    }

    private static int RetryAfterSeconds(TimeSpan hint) => Math.Max(1, (int)Math.Ceiling(hint.TotalSeconds));

    private enum PickOutcome
    {
        Picked,
        Full,
        NoInstance,
    }

    private sealed class Waiter(AcquireRequest request)
    {
        public AcquireRequest Request { get; } = request;

        public TaskCompletionSource<Lease?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter> Node { get; set; } = null!;
    }
}
