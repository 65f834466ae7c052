using System.Net.WebSockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Synapse.Client.Engine;
using Synapse.Client.Forwarding;
using Synapse.Client.Hosting;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Protocol.Transport;

namespace Synapse.Client.Gateway;

/// <summary>
/// One WebSocket to the gateway: dial out (key in a header, never in the URL), say hello, then serve the requests
/// the gateway multiplexes over it until either side closes it.
/// </summary>
internal sealed partial class GatewayConnection
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(15);

    private readonly AgentContext _context;
    private readonly ILogger _logger;
    private readonly CancellationToken _hardStop;
    private readonly TaskCompletionSource _goAway = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly FramedConnectionOptions _connectionOptions = new();

    // Models and engine signals go out under one lock, so the gateway never sees signals for a model it was not told of.
    private readonly Lock _advertising = new();
    private string[] _advertised = [];
    private EngineSignalsMessage? _signalsSent;
    private FramedConnection? _connection;
    private RequestExecutor? _executor;
    private RejectMessage? _rejection;
    private long _welcomedAt;
    private int _duplicate;

    public GatewayConnection(AgentContext context, Uri url, int reconnects, CancellationToken hardStop)
    {
        _context = context;
        Url = url;
        Reconnects = reconnects;
        _hardStop = hardStop;
        _logger = context.Loggers.CreateLogger<GatewayConnection>();
    }

    public Uri Url { get; }

    /// <summary>How many sockets this one's slot had before it (0 for the first).</summary>
    public int Reconnects { get; }

    public WelcomeMessage? Welcome { get; private set; }

    public int InFlight => _executor?.InFlight ?? 0;

    /// <summary>Completes when the gateway asks this socket to go away (its silo is draining).</summary>
    public Task GoAwayReceived => _goAway.Task;

    public event Action<GatewayConnection>? Welcomed;

    public async Task<ConnectionOutcome> RunAsync()
    {
        using var socket = new ClientWebSocket();
        if (await ConnectAsync(socket) is { } notConnected)
        {
            return notConnected;
        }

        using var connection = new FramedConnection(socket, _connectionOptions);
        _connection = connection;
        _executor = new RequestExecutor(connection, _context, () => Welcome?.InitialWindowBytes ?? 256 * 1024, _hardStop);
        connection.TrySend(FrameCodec.Json(FrameType.Hello, BuildHello(), ProtocolJsonContext.Default.HelloMessage));

        using var handshake = new CancellationTokenSource(HandshakeTimeout);
        await using var onTimeout = handshake.Token.Register(() =>
        {
            if (Welcome is null)
            {
                connection.Abort(ConnectionClosedReason.HeartbeatTimeout, "no answer to the hello");
            }
        });

        try
        {
            await connection.RunAsync(OnFrameAsync, _hardStop);
        }
        finally
        {
            _executor.CancelAll();
        }

        return Outcome(connection);
    }

    /// <summary>Dials out with the key in a header; null once connected, else why not.</summary>
    private async Task<ConnectionOutcome?> ConnectAsync(ClientWebSocket socket)
    {
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("User-Agent", $"synapse-client/{ProtocolVersion.Product}");
        if (_context.Options.WsAuthKey is { Length: > 0 } key)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {key}");
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_hardStop);
            timeout.CancelAfter(ConnectTimeout);
            await socket.ConnectAsync(Url, timeout.Token);
        }
        catch (OperationCanceledException) when (_hardStop.IsCancellationRequested)
        {
            return new ConnectionOutcome(ConnectionOutcomeKind.Stopped, "stopping");
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or OperationCanceledException or IOException)
        {
            if (socket.HttpStatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                return new ConnectionOutcome(ConnectionOutcomeKind.Unauthorized, "the gateway refused the WebSocket key (HTTP 401)");
            }

            var status = socket.HttpStatusCode == 0 ? string.Empty : $" (HTTP {(int)socket.HttpStatusCode})";
            return new ConnectionOutcome(ConnectionOutcomeKind.Failed, $"{Describe(ex)}{status}");
        }

        return null;
    }

    /// <summary>How the socket ended, once the gateway or this agent closed it.</summary>
    private ConnectionOutcome Outcome(FramedConnection connection)
    {
        if (_rejection is not null)
        {
            return new ConnectionOutcome(ConnectionOutcomeKind.Rejected, _rejection.Reason, Rejection: _rejection);
        }

        if (Volatile.Read(ref _duplicate) == 1)
        {
            return new ConnectionOutcome(ConnectionOutcomeKind.DuplicateSilo, "already connected to that silo");
        }

        if (_hardStop.IsCancellationRequested)
        {
            return new ConnectionOutcome(ConnectionOutcomeKind.Stopped, "stopping");
        }

        var lived = Welcome is null ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Environment.TickCount64 - _welcomedAt);
        var detail = $"{connection.ClosedReason} {connection.CloseDescription}".Trim();
        return new ConnectionOutcome(Welcome is null ? ConnectionOutcomeKind.Failed : ConnectionOutcomeKind.Closed, detail, lived);
    }

    public void SendModels(IReadOnlyList<ModelAdvert> models)
    {
        if (Welcome is null)
        {
            return;
        }

        lock (_advertising)
        {
            _connection?.TrySend(FrameCodec.Json(FrameType.ModelsUpdate, new ModelsUpdateMessage(models), ProtocolJsonContext.Default.ModelsUpdateMessage));
            _advertised = [.. models.Select(m => m.Id).Distinct(StringComparer.Ordinal)];
            SendEngineSignalsLocked(_context.Engine.Current);
        }
    }

    /// <summary>
    /// Sends the engine's load for the models this socket advertised, when it differs from what was sent last. Only
    /// to a gateway that speaks protocol 2 (its welcome says so) and only when this agent said 2 in its hello.
    /// </summary>
    public void SendEngineSignals(EngineReading reading)
    {
        if (Welcome is null)
        {
            return;
        }

        lock (_advertising)
        {
            SendEngineSignalsLocked(reading);
        }
    }

    /// <summary>Tells the gateway to send nothing new here; requests in flight continue.</summary>
    public void SendDraining()
    {
        if (Welcome is not null)
        {
            _connection?.TrySend(FrameCodec.Empty(FrameType.Draining));
        }
    }

    private void SendEngineSignalsLocked(EngineReading reading)
    {
        if (!_context.Engine.Enabled || Math.Min(Welcome!.ProtocolVersion, _context.Options.ProtocolVersion) < ProtocolVersion.EngineSignals)
        {
            return;
        }

        var message = reading.ToMessage(_advertised, _context.Engine.IntervalMs);
        var previous = _signalsSent;
        if (previous is null ? message.Models.Count == 0 : previous.Engine == message.Engine && previous.Models.SequenceEqual(message.Models))
        {
            return;
        }

        if (_connection?.TrySend(FrameCodec.Json(FrameType.EngineSignals, message, ProtocolJsonContext.Default.EngineSignalsMessage)) == true)
        {
            _signalsSent = message;
        }
    }

    public Task WhenIdleAsync() => _executor?.WhenIdleAsync() ?? Task.CompletedTask;

    /// <summary>Closes politely; requests still in flight are cancelled.</summary>
    public void Close(string reason) => _connection?.Complete(WebSocketCloseStatus.NormalClosure, reason);

    public void MarkDuplicate()
    {
        Volatile.Write(ref _duplicate, 1);
        Close("duplicate silo");
    }

    private ValueTask OnFrameAsync(Frame frame)
    {
        var executor = _executor!;
        if (Welcome is null && frame.Type is not (FrameType.Welcome or FrameType.Reject))
        {
            frame.Return();
            throw new FrameFormatException($"expected a welcome, got {frame.Type}");
        }

        switch (frame.Type)
        {
            case FrameType.Welcome:
                OnWelcome(frame);
                break;

            case FrameType.Reject:
                OnReject(frame);
                break;

            case FrameType.RequestHead:
                executor.OnRequestHead(frame);
                break;

            case FrameType.RequestBody:
                executor.OnRequestBody(frame);
                break;

            case FrameType.Cancel:
                var cancelled = FrameCodec.ReadRequestId(frame.Span);
                frame.Return();
                executor.OnCancel(cancelled);
                break;

            case FrameType.WindowUpdate:
                OnWindowUpdate(executor, frame);
                break;

            case FrameType.GoAway:
                var reason = FrameCodec.ReadJson(frame.Span, ProtocolJsonContext.Default.GoAwayMessage).Reason;
                frame.Return();
                LogGoAway(_logger, Url, reason, executor.InFlight);
                _goAway.TrySetResult();
                break;

            default:
                var type = frame.Type;
                frame.Return();
                throw new FrameFormatException($"unexpected frame type {(byte)type}");
        }

        return ValueTask.CompletedTask;
    }

    private void OnWelcome(Frame frame)
    {
        try
        {
            Welcome = FrameCodec.ReadJson(frame.Span, ProtocolJsonContext.Default.WelcomeMessage);
        }
        finally
        {
            frame.Return();
        }

        _welcomedAt = Environment.TickCount64;
        _connectionOptions.HeartbeatTimeout = TimeSpan.FromMilliseconds(Math.Max(1000, Welcome.HeartbeatTimeoutMs));
        // Never beyond what a gateway can be configured to (64 MiB): a broken or hostile one would otherwise
        // make this agent buffer a message of any size it cares to send.
        _connectionOptions.MaxFrameBytes = Math.Clamp(Welcome.MaxFrameBytes, 64 * 1024, 64 * 1024 * 1024);
        LogWelcomed(_logger, Url, Welcome.ServerVersion, Welcome.SiloId, Welcome.SiloCount);
        Welcomed?.Invoke(this);

        // Models may have changed between the hello and now.
        SendModels(_context.Discovery.Current);
    }

    private void OnReject(Frame frame)
    {
        try
        {
            _rejection = FrameCodec.ReadJson(frame.Span, ProtocolJsonContext.Default.RejectMessage);
        }
        finally
        {
            frame.Return();
        }

        _connection!.Complete(WebSocketCloseStatus.NormalClosure, "rejected");
    }

    private static void OnWindowUpdate(RequestExecutor executor, Frame frame)
    {
        int credits;
        long id;
        try
        {
            credits = FrameCodec.ReadWindowUpdate(frame.Span, out id);
        }
        finally
        {
            frame.Return();
        }

        executor.OnWindowUpdate(id, credits);
    }

    private HelloMessage BuildHello() => new()
    {
        ProtocolVersion = _context.Options.ProtocolVersion,
        ProductVersion = ProtocolVersion.Product,
        AgentId = _context.AgentId,
        Name = _context.Options.Name,
        Hostname = Environment.MachineName,
        Capacity = _context.Options.MaxConcurrency,
        Models = _context.IsDraining ? [] : _context.Discovery.Current,
        Reconnects = Reconnects,
        SelfUpdate = _context.Options.SelfUpdate,
        InstanceToken = _context.InstanceToken,
        Os = "linux",
        Arch = RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
    };

    private static string Describe(Exception ex) =>
        ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message;

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to {Url}: gateway {Version}, silo {Silo} of {Silos}")]
    private static partial void LogWelcomed(ILogger logger, Uri url, string version, string silo, int silos);

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway {Url} is going away ({Reason}); moving, {InFlight} requests finish here first")]
    private static partial void LogGoAway(ILogger logger, Uri url, string reason, int inFlight);
}
