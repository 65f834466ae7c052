using Microsoft.Extensions.Options;
using Synapse.Grains.Agents;
using Synapse.Grains.Models;
using Synapse.Protocol.Transport;
using Synapse.Silo.Cluster;
using Synapse.Silo.Observability;

namespace Synapse.Silo.Agents;

/// <summary>What every <see cref="AgentSession"/> needs from the silo, resolved once.</summary>
internal sealed class AgentSessionServices(
    AgentSessionRegistry registry,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    ClusterView cluster,
    IOptions<AgentSessionOptions> options,
    GatewayMetrics metrics,
    ILoggerFactory loggers)
{
    public AgentSessionRegistry Registry { get; } = registry;

    public IGrainFactory Grains { get; } = grains;

    public SiloAddress Silo => silo.SiloAddress;

    public ClusterView Cluster { get; } = cluster;

    public AgentSessionOptions Options { get; } = options.Value;

    public ILogger Logger { get; } = loggers.CreateLogger<AgentSession>();

    public GatewayMetrics Metrics { get; } = metrics;

    /// <summary>What all agent sockets of this silo may queue together.</summary>
    public SendQueueBudget SendBudget { get; } = new(options.Value.MaxTotalQueuedBytes);

    public FramedConnectionOptions ConnectionOptions => new()
    {
        MaxFrameBytes = Options.MaxFrameBytes,
        HeartbeatInterval = Options.HeartbeatInterval,
        HeartbeatTimeout = Options.HeartbeatTimeout,
        MaxQueuedBytes = Options.MaxQueuedBytes,
        SharedBudget = SendBudget,
        CloseTimeout = Options.CloseTimeout,
    };

    public IModelGrain ModelGrain(string group, string model) => Grains.GetGrain<IModelGrain>(ModelKey.For(group, model));

    public IAgentIdentityGrain Identity(string group, string agentId) =>
        Grains.GetGrain<IAgentIdentityGrain>(AgentIdentityKey.For(group, agentId));
}
