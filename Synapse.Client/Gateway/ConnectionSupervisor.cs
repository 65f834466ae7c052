using Microsoft.Extensions.Logging;
using Synapse.Client.Engine;
using Synapse.Client.Hosting;
using Synapse.Protocol.Messages;

namespace Synapse.Client.Gateway;

/// <summary>
/// Keeps the agent attached: one socket always, more (to distinct silos) when the gateway has several, each
/// reconnecting with exponential backoff and jitter. A socket told to go away is replaced at once and retired when
/// its requests are done.
/// </summary>
internal sealed partial class ConnectionSupervisor
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan HealthyAfter = TimeSpan.FromSeconds(10);

    private readonly AgentContext _context;
    private readonly CancellationToken _hardStop;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly List<GatewayConnection> _live = [];
    private readonly TaskCompletionSource<int> _fatal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _clusterGrew = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _knownSilos = 1;

    public ConnectionSupervisor(AgentContext context, CancellationToken hardStop)
    {
        _context = context;
        _hardStop = hardStop;
        _logger = context.Loggers.CreateLogger<ConnectionSupervisor>();
        context.Discovery.Changed += Broadcast;
        context.Engine.Changed += BroadcastEngine;
    }

    /// <summary>The gateway's refusal that stopped the agent, if one did.</summary>
    public RejectMessage? Rejection { get; private set; }

    /// <summary>Sockets that completed the handshake and are not retiring.</summary>
    public int ConnectedCount
    {
        get
        {
            lock (_lock)
            {
                return _live.Count(c => c.Welcome is not null && !c.GoAwayReceived.IsCompleted);
            }
        }
    }

    public IReadOnlyList<GatewayConnection> Connections
    {
        get
        {
            lock (_lock)
            {
                return [.. _live];
            }
        }
    }

    /// <summary>Runs until <paramref name="stopReconnecting"/> and the last socket closed, or a fatal refusal.</summary>
    public async Task<int> RunAsync(CancellationToken stopReconnecting)
    {
        var slots = Enumerable.Range(0, _context.Options.Connections).Select(i => SlotAsync(i, stopReconnecting)).ToArray();
        var all = Task.WhenAll(slots);
        var first = await Task.WhenAny(all, _fatal.Task);
        if (first == _fatal.Task)
        {
            foreach (var connection in Connections)
            {
                connection.Close("stopping");
            }

            return await _fatal.Task;
        }

        return AgentExitCodes.Ok;
    }

    /// <summary>SIGTERM: nothing new anywhere; waits (bounded) for in-flight requests, then closes every socket.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        var connections = Connections;
        foreach (var connection in connections)
        {
            connection.SendDraining();
        }

        var idle = Task.WhenAll(connections.Select(c => c.WhenIdleAsync()));
        var finished = await Task.WhenAny(idle, Task.Delay(timeout, _hardStop)) == idle;
        LogDrained(_logger, finished, connections.Sum(c => c.InFlight));
        foreach (var connection in connections)
        {
            connection.Close("agent shutting down");
        }
    }

    private async Task SlotAsync(int slot, CancellationToken stopReconnecting)
    {
        var urls = _context.Options.ServerUrls;
        var urlIndex = slot;
        var failures = 0;
        var welcomed = 0;
        while (!stopReconnecting.IsCancellationRequested && !_hardStop.IsCancellationRequested)
        {
            if (slot > 0 && !await WaitForMoreSilosAsync(slot, stopReconnecting))
            {
                return;
            }

            var connection = new GatewayConnection(_context, urls[urlIndex % urls.Count], welcomed, _hardStop);
            connection.Welcomed += OnWelcomed;
            lock (_lock)
            {
                _live.Add(connection);
            }

            var run = connection.RunAsync();
            if (await Task.WhenAny(run, connection.GoAwayReceived) != run)
            {
                // Replace it now; it finishes its requests in the background.
                _ = RetireAsync(connection, run);
                welcomed++;
                failures = 0;
                urlIndex++;
                continue;
            }

            ConnectionOutcome outcome;
            try
            {
                outcome = await run;
            }
            catch (Exception ex) when (!_hardStop.IsCancellationRequested)
            {
                // A bug in one attempt must not leave the slot dead and the agent silently disconnected.
                outcome = new ConnectionOutcome(ConnectionOutcomeKind.Failed, $"unexpected {ex.GetType().Name}: {ex.Message}");
            }

            Forget(connection);
            if (connection.Welcome is not null)
            {
                welcomed++;
            }

            if (!KeepTrying(connection, outcome, ref failures))
            {
                return;
            }

            urlIndex++;
            var delay = Backoff(failures++);
            try
            {
                await Task.Delay(delay, stopReconnecting);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Acts on how a socket ended: logs it and sets the backoff; false when the slot stops (stopping, or a fatal refusal).</summary>
    private bool KeepTrying(GatewayConnection connection, ConnectionOutcome outcome, ref int failures)
    {
        switch (outcome.Kind)
        {
            case ConnectionOutcomeKind.Stopped:
                return false;
            case ConnectionOutcomeKind.Unauthorized:
                Fatal(AgentExitCodes.Unauthorized, $"{outcome.Detail}. Start the agent with --ws-auth-key set to the gateway's WebSocket key.");
                return false;
            case ConnectionOutcomeKind.Rejected when RejectMessage.IsRetryable(outcome.Rejection!.Code):
                // Our id is still held by connections of a previous run of this agent, say: they go within a
                // heartbeat timeout, so keep trying.
                LogRefusedForNow(_logger, connection.Url, outcome.Rejection.Code, outcome.Detail);
                failures = Math.Max(failures, 2);
                break;
            case ConnectionOutcomeKind.Rejected:
                Rejection = outcome.Rejection;
                Fatal(outcome.Rejection!.Code == RejectMessage.VersionMismatch ? AgentExitCodes.VersionMismatch : AgentExitCodes.Usage, DescribeRejection(outcome.Rejection));
                return false;
            case ConnectionOutcomeKind.DuplicateSilo:
                failures = Math.Max(failures, 4);
                break;
            case ConnectionOutcomeKind.Closed when outcome.Welcomed >= HealthyAfter:
                failures = 0;
                LogDisconnected(_logger, connection.Url, outcome.Detail);
                break;
            default:
                LogConnectFailed(_logger, connection.Url, outcome.Detail);
                break;
        }

        return true;
    }

    private async Task RetireAsync(GatewayConnection connection, Task<ConnectionOutcome> run)
    {
        try
        {
            var idle = connection.WhenIdleAsync();
            await Task.WhenAny(idle, run, Task.Delay(_context.Options.DrainTimeout, _hardStop));
            connection.Close("moved to another gateway node");
            await run;
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Forget(connection);
        }
    }

    private async Task<bool> WaitForMoreSilosAsync(int slot, CancellationToken stopReconnecting)
    {
        while (Volatile.Read(ref _knownSilos) <= slot)
        {
            Task grew;
            lock (_lock)
            {
                grew = _clusterGrew.Task;
            }

            try
            {
                await grew.WaitAsync(stopReconnecting);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return true;
    }

    private void OnWelcomed(GatewayConnection connection)
    {
        var welcome = connection.Welcome!;
        if (connection.Reconnects > 0)
        {
            _context.Telemetry.Reconnects.Add(1);
        }

        var duplicate = false;
        lock (_lock)
        {
            duplicate = _live.Any(c => c != connection && c.Welcome?.SiloId == welcome.SiloId && !c.GoAwayReceived.IsCompleted);
            if (welcome.SiloCount > _knownSilos)
            {
                _knownSilos = welcome.SiloCount;
                _clusterGrew.TrySetResult();
                _clusterGrew = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            else
            {
                _knownSilos = Math.Max(1, welcome.SiloCount);
            }
        }

        if (duplicate)
        {
            connection.MarkDuplicate();
        }
    }

    private void Broadcast(IReadOnlyList<ModelAdvert> models)
    {
        if (_context.IsDraining)
        {
            return;
        }

        foreach (var connection in Connections)
        {
            connection.SendModels(models);
        }
    }

    private void BroadcastEngine(EngineReading reading)
    {
        if (_context.IsDraining)
        {
            return;
        }

        foreach (var connection in Connections)
        {
            connection.SendEngineSignals(reading);
        }
    }

    private void Forget(GatewayConnection connection)
    {
        lock (_lock)
        {
            _live.Remove(connection);
        }
    }

    private void Fatal(int exitCode, string message)
    {
        LogFatal(_logger, message);
        _fatal.TrySetResult(exitCode);
    }

    private string DescribeRejection(RejectMessage rejection)
    {
        if (rejection.Code != RejectMessage.VersionMismatch)
        {
            return $"the gateway refused this agent: {rejection.Reason}";
        }

        var install = RunUrlOf(_context.Options.ServerUrls[0]);
        return $"the gateway refused this agent: {rejection.Reason}. Install the agent that matches gateway {rejection.ServerVersion}: "
            + $"curl -fsSL {install} | bash -s -- --upstream {_context.Upstream.BaseUrl}";
    }

    /// <summary>The gateway's install script, derived from its WebSocket URL (ws→http, wss→https, /ws→/run).</summary>
    internal static string RunUrlOf(Uri server)
    {
        var builder = new UriBuilder(server)
        {
            Scheme = server.Scheme == "wss" ? "https" : "http",
            Path = server.AbsolutePath.EndsWith("/ws", StringComparison.Ordinal) ? server.AbsolutePath[..^3] + "/run" : "/run",
            Query = string.Empty,
        };
        if (builder.Uri.IsDefaultPort)
        {
            builder.Port = -1;
        }

        return builder.Uri.ToString();
    }

    // Jitter of a quarter either way around 75 % of the doubling delay: agents of a restarted gateway spread out.
    private TimeSpan Backoff(int failures) => new Protocol.Backoff(FirstDelay, _context.Options.MaxReconnectDelay, Jitter: 0.33).Delay(failures) * 0.75;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot connect to {Url}: {Reason}; retrying")]
    private static partial void LogConnectFailed(ILogger logger, Uri url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disconnected from {Url}: {Reason}; reconnecting")]
    private static partial void LogDisconnected(ILogger logger, Uri url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The gateway at {Url} refused this agent for now ({Code}: {Reason}); retrying")]
    private static partial void LogRefusedForNow(ILogger logger, Uri url, string code, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Message}")]
    private static partial void LogFatal(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drain finished (all requests done: {Finished}, still in flight: {InFlight})")]
    private static partial void LogDrained(ILogger logger, bool finished, int inFlight);
}
