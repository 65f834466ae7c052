using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Runtime.Placement;
using Orleans.Serialization.Cloning;
using Orleans.Serialization.Codecs;
using Synapse.Grains.Balancing;
using Synapse.Grains.Models;
using Synapse.Grains.Placement;
using Synapse.Grains.Relay;
using Synapse.Grains.Serialization;

namespace Synapse.Grains.Hosting;

public static class SynapseGrainsSiloBuilderExtensions
{
    /// <summary>
    /// Registers the grains' services: pinned placement, balancing policies, model grain options and the response
    /// relay (<see cref="RelaySiloBuilderExtensions.AddSynapseRelay"/>). The host supplies
    /// <see cref="Agents.ILocalAgentConnections"/> (the sockets this silo holds). Memory-stream payloads get a block
    /// codec and copier (see <see cref="ByteSegmentCodec"/>).
    /// </summary>
    public static ISiloBuilder AddSynapseGrains(this ISiloBuilder builder)
    {
        var services = builder.Services;
        services.AddPlacementDirector<SiloPinnedPlacementStrategy, SiloPinnedPlacementDirector>();
        services.AddSingleton<ILoadBalancingPolicy, EngineAwarePolicy>();
        services.AddSingleton<ILoadBalancingPolicy, PowerOfTwoChoicesPolicy>();
        services.AddSingleton<ILoadBalancingPolicy, LeastLoadedPolicy>();
        services.AddSingleton<ILoadBalancingPolicy, RoundRobinPolicy>();
        services.AddSingleton<IFieldCodec<ArraySegment<byte>>, ByteSegmentCodec>();
        services.AddSingleton<IDeepCopier<ArraySegment<byte>>, ByteSegmentCopier>();
        services.AddOptions<ModelGrainOptions>()
            .BindConfiguration(ModelGrainOptions.SectionName)
            .Validate<IEnumerable<ILoadBalancingPolicy>>(
                (options, policies) => policies.Any(p => string.Equals(p.Name, options.Policy, StringComparison.OrdinalIgnoreCase)),
                "Synapse:Balancing:Policy names no known policy (EngineAware, PowerOfTwoChoices, LeastLoaded, RoundRobin).")
            .Validate(o => o.KvUsageThreshold is > 0 and <= 1, "Synapse:Balancing:KvUsageThreshold must be above 0 and at most 1.")
            .Validate(o => o.Affinity.LoadBound >= 1, "Synapse:Balancing:Affinity:LoadBound must be 1 or more.")
            .Validate(o => o.MaxQueueLength >= 0, "Synapse:Balancing:MaxQueueLength must be 0 or more.")
            .Validate(o => o.QueueTimeout >= TimeSpan.Zero && o.QueueTimeout <= TimeSpan.FromMinutes(9), "Synapse:Balancing:QueueTimeout must be between 0 and 9 minutes.")
            .Validate(o => o.RegistrationTtl >= TimeSpan.FromSeconds(2), "Synapse:Balancing:RegistrationTtl must be at least 2 seconds.")
            .ValidateOnStart();
        builder.AddSynapseRelay();
        return builder;
    }
}
