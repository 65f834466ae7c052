using Synapse.Grains.Agents;
using Synapse.Grains.Cluster;
using Synapse.Grains.Models;
using Synapse.Protocol;
using Synapse.Silo.Cluster;

namespace Synapse.Silo.Status;

/// <summary>
/// Gathers the cluster's state from every silo's socket directory and every model grain. Answers are cached for
/// a moment (a status page polling once a second from many browsers costs one gathering), and refreshed in the
/// background so the cluster-wide gauges always have a recent value.
/// </summary>
internal sealed partial class ClusterStatusProvider(
    IGrainFactory grains,
    ClusterView cluster,
    GatewayState state,
    ILogger<ClusterStatusProvider> logger) : BackgroundService
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan FreshFor = TimeSpan.FromMilliseconds(500);

    private readonly SemaphoreSlim _gathering = new(1, 1);
    private long _gatheredAt = long.MinValue;

    public ClusterStatus? Latest { get; private set; }

    public async Task<ClusterStatus> GetAsync(CancellationToken cancellationToken)
    {
        if (Latest is { } cached && Environment.TickCount64 - _gatheredAt < FreshFor.TotalMilliseconds)
        {
            return cached;
        }

        await _gathering.WaitAsync(cancellationToken);
        try
        {
            if (Latest is { } again && Environment.TickCount64 - _gatheredAt < FreshFor.TotalMilliseconds)
            {
                return again;
            }

            var status = await GatherAsync(cancellationToken);
            Latest = status;
            _gatheredAt = Environment.TickCount64;
            return status;
        }
        finally
        {
            _gathering.Release();
        }
    }

    public override void Dispose()
    {
        _gathering.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!state.IsJoined)
                {
                    continue;
                }

                try
                {
                    await GetAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogGatherFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<ClusterStatus> GatherAsync(CancellationToken cancellationToken)
    {
        var members = cluster.Members;
        var active = members.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToArray();
        var answers = (await SiloFanOut.AskDirectoriesAsync(grains, active, d => d.GetAgents(), CallTimeout, cancellationToken))
            .Select(a => (silo: a.Silo, agents: a.Value ?? [], answered: a.Answered))
            .ToArray();

        var connections = answers.SelectMany(a => a.agents).ToArray();
        var modelKeys = connections.SelectMany(c => c.Models.Select(m => ModelKey.For(c.Group, m))).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var snapshots = await Task.WhenAll(modelKeys.Select(async key =>
        {
            try
            {
                return await grains.GetGrain<IModelGrain>(key).GetSnapshot().WaitAsync(CallTimeout, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }));

        // Agent ids are per key group: the same id in two groups is two agents.
        var heartbeats = connections.GroupBy(c => (c.Group, c.AgentId)).ToDictionary(g => g.Key, g => g.Max(c => c.LastHeartbeat));

        // An agent with sockets to two silos reports the same engine on both: the newest values win.
        var engines = connections
            .SelectMany(c => c.Engine.Select(e => (c.Group, c.AgentId, Load: e)))
            .GroupBy(e => (e.Group, e.AgentId, e.Load.Model))
            .ToDictionary(g => g.Key, g => g.MaxBy(e => e.Load.ReceivedAt).Load);
        var models = snapshots.OfType<ModelSnapshot>().Select(s => new ModelStatus(
            s.Model,
            s.Queued,
            s.Policy,
            s.Group,
            [.. s.Instances.OrderBy(i => i.Name, StringComparer.Ordinal).Select(i => new InstanceStatus(
                i.AgentId,
                i.Name,
                i.Hostname,
                i.Silos,
                i.State,
                i.InFlight,
                i.Capacity,
                i.LatencyMs,
                i.ConsecutiveFailures,
                heartbeats.TryGetValue((s.Group, i.AgentId), out var beat) ? beat : null,
                engines.TryGetValue((s.Group, i.AgentId, s.Model), out var e)
                    ? new EngineStatus(e.Engine, e.Running, e.Waiting, e.KvUsage, e.Capacity, e.IntervalMs, e.ReceivedAt)
                    : null))])).ToArray();

        var agents = Agents(connections);
        var silos = Silos(members, answers.ToDictionary(a => a.silo, a => (a.agents.Length, a.answered)));
        return new ClusterStatus(ProtocolVersion.Product, DateTimeOffset.UtcNow, cluster.LocalSilo.ToString(), silos, models, agents);
    }

    /// <summary>One entry per agent (per key group and id), with its sockets to every silo.</summary>
    private static AgentInfo[] Agents(AgentConnectionStatus[] connections)
    {
        return connections.GroupBy(c => (c.Group, c.AgentId)).Select(g => new AgentInfo(
            g.Key.AgentId,
            g.First().Name,
            g.First().Hostname,
            g.First().AgentVersion,
            [.. g.SelectMany(c => c.Models).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            g.Max(c => c.Capacity),
            g.Sum(c => c.InFlight),
            [.. g.Select(c => new AgentConnectionInfo(c.Silo, c.ConnectionId, c.ConnectedAt, c.LastHeartbeat, c.RoundTripMs, c.InFlight, c.Draining))],
            g.Key.Group))
            .OrderBy(a => a.Name, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>The silos worth showing, live ones first, with how many sockets each holds and whether it answered.</summary>
    private SiloInfo[] Silos(IReadOnlyList<ClusterMember> members, Dictionary<SiloAddress, (int Length, bool answered)> counts)
    {
        return members
            .Where(m => m.Status is SiloStatus.Active or SiloStatus.Joining or SiloStatus.ShuttingDown or SiloStatus.Stopping or SiloStatus.Dead)
            .OrderBy(m => m.Status == SiloStatus.Dead)
            .ThenBy(m => m.SiloAddress.ToString(), StringComparer.Ordinal)
            .Take(32)
            .Select(m => new SiloInfo(
                m.SiloAddress.ToString(),
                m.Name,
                m.Status.ToString(),
                m.SiloAddress.Equals(cluster.LocalSilo),
                counts.TryGetValue(m.SiloAddress, out var c) ? c.Length : 0,
                counts.TryGetValue(m.SiloAddress, out var a) && a.answered))
            .ToArray();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not gather the cluster status")]
    private static partial void LogGatherFailed(ILogger logger, Exception exception);
}
