using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Synapse.Client.Engine;
using Synapse.Client.Gateway;
using Synapse.Client.Observability;
using Synapse.Client.Upstream;

namespace Synapse.Client.Hosting;

/// <summary>
/// The agent: discovers its upstream's models, keeps sockets to the gateway, serves what arrives, and drains on
/// request. Runs the same in its own process and inside a test.
/// </summary>
public sealed partial class AgentApp : IDisposable
{
    private readonly AgentOptions _options;
    private readonly AgentContext _context;
    private readonly ConnectionSupervisor _supervisor;
    private readonly CancellationTokenSource _hardStop = new();
    private readonly CancellationTokenSource _stopReconnecting = new();
    private readonly ILogger _logger;
    private int _draining;

    public AgentApp(AgentOptions options, ILoggerFactory loggers)
    {
        _options = options;
        _logger = loggers.CreateLogger<AgentApp>();
        var upstream = new UpstreamClient(options);
        var discovery = new ModelDiscovery(upstream, options, loggers.CreateLogger<ModelDiscovery>());
        AgentId = options.AgentId ?? DeriveAgentId(options);
        var engine = new EngineMonitor(upstream, options, loggers.CreateLogger<EngineMonitor>());
        _context = new AgentContext(options, AgentId, upstream, discovery, engine, new AgentTelemetry(), loggers);
        _supervisor = new ConnectionSupervisor(_context, _hardStop.Token);
    }

    public string AgentId { get; }

    /// <summary>Why the gateway refused this agent, when it did (the process may then update itself).</summary>
    public Protocol.Messages.RejectMessage? Rejection => _supervisor.Rejection;

    /// <summary>Sockets to the gateway that completed the handshake.</summary>
    public int ConnectedCount => _supervisor.ConnectedCount;

    /// <summary>The silos (by id) this agent holds sockets to.</summary>
    public IReadOnlyList<string> ConnectedSilos =>
        [.. _supervisor.Connections.Select(c => c.Welcome?.SiloId).OfType<string>()];

    /// <summary>Runs until drained, stopped, or refused for good; returns the process exit code.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        await using var onCancel = cancellationToken.Register(Kill);
        LogStarting(_logger, Protocol.ProtocolVersion.Product, AgentId, _context.Upstream.BaseUrl, string.Join(", ", _options.ServerUrls));
        try
        {
            await _context.Discovery.PollAsync(_hardStop.Token);
        }
        catch (OperationCanceledException)
        {
            return AgentExitCodes.Interrupted;
        }

        var discovery = _context.Discovery.RunAsync(_hardStop.Token);
        var engine = _context.Engine.RunAsync(_hardStop.Token);
        var exitCode = await _supervisor.RunAsync(_stopReconnecting.Token);
        await _hardStop.CancelAsync();
        await discovery.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await engine.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (exitCode == AgentExitCodes.Ok && cancellationToken.IsCancellationRequested)
        {
            return AgentExitCodes.Interrupted;
        }

        return exitCode;
    }

    /// <summary>Graceful stop (first SIGTERM): take nothing new, finish what is in flight (bounded), close.</summary>
    public async Task DrainAsync()
    {
        if (Interlocked.Exchange(ref _draining, 1) == 1)
        {
            return;
        }

        LogDraining(_logger, _options.DrainTimeout.TotalSeconds);
        _context.StartDraining();
        await _stopReconnecting.CancelAsync();
        await _supervisor.DrainAsync(_options.DrainTimeout);
    }

    /// <summary>Stops at once: every socket and upstream request is aborted, as if the process died.</summary>
    public void Kill()
    {
        try
        {
            _stopReconnecting.Cancel();
            _hardStop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        Kill();
        _context.Upstream.Dispose();
        _context.Discovery.Dispose();
        _context.Telemetry.Dispose();
        _hardStop.Dispose();
        _stopReconnecting.Dispose();
    }

    /// <summary>
    /// Same host, same upstream, same name: same agent, across restarts. So re-registration is idempotent and two
    /// agents fronting one upstream count as one instance.
    /// </summary>
    internal static string DeriveAgentId(AgentOptions options)
    {
        var seed = $"{Environment.MachineName}|{UpstreamClient.NormalizeBase(options.Upstream)}|{options.Name}";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(seed));
        return "agent-" + Convert.ToHexStringLower(hash.AsSpan(0, 8));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Synapse agent {Version} ({AgentId}) for upstream {Upstream}, gateway {Servers}")]
    private static partial void LogStarting(ILogger logger, string version, string agentId, string upstream, string servers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: no new requests; waiting up to {Seconds} s for those in flight (signal again to stop now)")]
    private static partial void LogDraining(ILogger logger, double seconds);
}
