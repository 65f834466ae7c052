using Synapse.Protocol.Frames;

namespace Synapse.Client.Hosting;

/// <summary>Everything the agent is told on its command line or environment.</summary>
public sealed class AgentOptions
{
    /// <summary>The OpenAI-compatible server next to the agent, with or without a trailing <c>/v1</c>.</summary>
    public Uri Upstream { get; set; } = new("http://localhost:8081");

    /// <summary>The gateway's WebSocket URL(s). Several are tried in turn; one behind a load balancer is typical.</summary>
    public IReadOnlyList<Uri> ServerUrls { get; set; } = [new Uri("ws://localhost:8080/ws")];

    public string? WsAuthKey { get; set; }

    /// <summary>Sent to the upstream as its bearer token. Never leaves the agent otherwise.</summary>
    public string? UpstreamApiKey { get; set; }

    /// <summary>Requests per model the upstream takes at once; the gateway never sends more.</summary>
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>A human name for status pages and logs. Default: the host name.</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>Stable identity across reconnects and restarts. Default: derived from host, upstream and name.</summary>
    public string? AgentId { get; set; }

    /// <summary>Sockets to keep open to distinct gateway silos, when the gateway has several.</summary>
    public int Connections { get; set; } = 2;

    /// <summary>How often the upstream's model list is polled.</summary>
    public TimeSpan DiscoveryInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often the engine's load (queue, running requests, KV cache) is read and, when it changed, sent to the
    /// gateway. Zero turns engine signals off.
    /// </summary>
    public TimeSpan EngineMetricsInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>On SIGTERM, how long requests in flight may take to finish.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time to open a TCP connection to the upstream before the request is retried elsewhere.</summary>
    public TimeSpan UpstreamConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait between reconnection attempts (backoff starts near 250 ms and doubles, with jitter).</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Installed by the gateway's <c>/run</c>: when the gateway refuses this agent's protocol, download the matching
    /// agent, replace this binary and restart it.
    /// </summary>
    public bool SelfUpdate { get; set; }

    /// <summary>The protocol version claimed in the handshake; only tests change it.</summary>
    internal int ProtocolVersion { get; set; } = Protocol.ProtocolVersion.Current;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Upstream.Scheme is not ("http" or "https"))
        {
            errors.Add($"--upstream must be an http:// or https:// URL, not '{Upstream}'");
        }

        foreach (var url in ServerUrls)
        {
            if (url.Scheme is not ("ws" or "wss"))
            {
                errors.Add($"--server-url must be a ws:// or wss:// URL, not '{url}'");
            }
        }

        if (ServerUrls.Count == 0)
        {
            errors.Add("--server-url is required");
        }

        if (MaxConcurrency is < 1 or > ProtocolLimits.MaxCapacity)
        {
            errors.Add($"--max-concurrency must be between 1 and {ProtocolLimits.MaxCapacity}");
        }

        if (Connections is < 1 or > 8)
        {
            errors.Add("--connections must be between 1 and 8");
        }

        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 128)
        {
            errors.Add("--name must be 1 to 128 characters");
        }

        if (AgentId is not null && !ProtocolLimits.IsValidAgentId(AgentId))
        {
            errors.Add($"--agent-id may contain only letters, digits, '-', '_', '.' and ':' (at most {ProtocolLimits.MaxAgentIdLength})");
        }

        if (DiscoveryInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add("--discovery-interval must be at least 1 second");
        }

        if (EngineMetricsInterval != TimeSpan.Zero && (EngineMetricsInterval < TimeSpan.FromMilliseconds(100) || EngineMetricsInterval > TimeSpan.FromMinutes(10)))
        {
            errors.Add("--engine-metrics-interval must be 0 (off) or 0.1 to 600 seconds");
        }

        return errors;
    }
}
