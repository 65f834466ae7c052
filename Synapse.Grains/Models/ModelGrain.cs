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
    private readonly AffinityRing _affinity = new();
    private readonly ModelGrainOptions _options;
    private readonly ILoadBalancingPolicy _policy;
    private readonly IClusterMembershipService _membership;
    private readonly ILogger<ModelGrain> _logger;
    private long _lastInstanceSeenTick = long.MinValue;
    private bool _affinityOn;
    private bool _ringStale = true;

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

    /// <summary>The model's name, without its group (what logs and the snapshot show).</summary>
    private string Model => ModelKey.Parse(this.GetPrimaryKeyString()).Model;

    private string Group => ModelKey.Parse(this.GetPrimaryKeyString()).Group;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _affinityOn = _options.Affinity.Enabled && !_options.Affinity.DisabledModels.Contains(Model, StringComparer.Ordinal);
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

    public Task RegisterMany(InstanceRegistration[] registrations)
    {
        foreach (var registration in registrations)
        {
            Upsert(registration, adoptActiveRequests: false);
        }

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

    public Task ReportEngineLoad(EngineReport report)
    {
        if (_instances.TryGetValue(report.AgentId, out var instance) && instance.Engine.Update(report.Load, report.At))
        {
            // Less waiting or more room may let a queued request through now rather than at the next release.
            DrainQueue();
        }

        return Task.CompletedTask;
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
            instance.Engine.Ended(Environment.TickCount64);
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
            Engine = i.Engine.Load,
            EngineWaiting = i.Engine.Waiting,
        }).ToArray();
        return Task.FromResult(new ModelSnapshot
        {
            Model = Model,
            Group = Group,
            Instances = instances,
            Queued = _queue.Count,
            Policy = _policy.Name,
        });
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
