using Microsoft.Extensions.Logging;
using Synapse.Client.Engine;
using Synapse.Client.Forwarding;
using Synapse.Client.Observability;
using Synapse.Client.Upstream;

namespace Synapse.Client.Hosting;

/// <summary>What every connection and request of one agent shares.</summary>
internal sealed class AgentContext(AgentOptions options, string agentId, UpstreamClient upstream, ModelDiscovery discovery, EngineMonitor engine, AgentTelemetry telemetry, ILoggerFactory loggers)
{
    private int _draining;

    public AgentOptions Options { get; } = options;

    public string AgentId { get; } = agentId;

    public UpstreamClient Upstream { get; } = upstream;

    public ModelDiscovery Discovery { get; } = discovery;

    /// <summary>The engine's load, read next to it, for the gateway's balancing.</summary>
    public EngineMonitor Engine { get; } = engine;

    public ModelSlots Slots { get; } = new(options.MaxConcurrency);

    public ILoggerFactory Loggers { get; } = loggers;

    public AgentTelemetry Telemetry { get; } = telemetry;

    /// <summary>
    /// Random per process and shared by all its sockets: the gateway counts sockets with the same id and token as one
    /// instance, and refuses another process claiming this id while these sockets are up.
    /// </summary>
    public string InstanceToken { get; } = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    /// <summary>True once SIGTERM arrived: no new requests, in-flight ones finish.</summary>
    public bool IsDraining => Volatile.Read(ref _draining) == 1;

    public void StartDraining() => Volatile.Write(ref _draining, 1);
}
