using Synapse.Grains.Balancing;

namespace Synapse.Grains.Models;

/// <summary>Balancing, queueing and registry settings of every model grain (section <c>Synapse:Balancing</c>).</summary>
public sealed class ModelGrainOptions
{
    public const string SectionName = "Synapse:Balancing";

    /// <summary>Name of the <see cref="ILoadBalancingPolicy"/> to use.</summary>
    public string Policy { get; set; } = LoadBalancingPolicies.EngineAware;

    /// <summary>
    /// Instances whose engine reports more of its KV cache in use than this (0 to 1) get no new requests while another
    /// can take them: a nearly full cache means preempted requests and recomputed prefixes.
    /// </summary>
    public double KvUsageThreshold { get; set; } = 0.9;

    /// <summary>Prefix and session affinity (section <c>Synapse:Balancing:Affinity</c>).</summary>
    public AffinityOptions Affinity { get; set; } = new();

    /// <summary>Requests that may wait per model while every instance is full; more get 429.</summary>
    public int MaxQueueLength { get; set; } = 1000;

    /// <summary>How long a request waits for a free instance before it gets 503.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a request for a model that had instances a moment ago waits for one to come back (an agent
    /// reconnecting after its silo died) before it gets 503.
    /// </summary>
    public TimeSpan ReconnectGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A socket not refreshed for this long is dropped (its silo stopped refreshing it).</summary>
    public TimeSpan RegistrationTtl { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>After its last instance left, a model still answers 503 rather than 404 for this long.</summary>
    public TimeSpan ForgetModelAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A local instance is preferred when its load is within this much of the chosen remote one (load is in-flight
    /// relative to capacity, so 0.1 is a tenth of capacity).
    /// </summary>
    public double LocalityTolerance { get; set; } = 0.1;

    /// <summary>Failures in a row before an instance is used only when nothing else can serve.</summary>
    public int FailuresBeforeCooldown { get; set; } = 3;

    public TimeSpan Cooldown { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a new activation waits for silos to report their sockets.</summary>
    public TimeSpan RebuildTimeout { get; set; } = TimeSpan.FromSeconds(3);
}
