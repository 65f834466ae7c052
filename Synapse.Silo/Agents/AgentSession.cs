using System.Collections.Concurrent;
using System.Net.WebSockets;
using Synapse.Grains.Agents;
using Synapse.Grains.Models;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Protocol.Transport;
using Synapse.Silo.Api.Errors;

namespace Synapse.Silo.Agents;

/// <summary>
/// One agent's WebSocket on this silo: the handshake, many requests multiplexed by id, flow control per request,
/// and the agent's registrations in the model grains, refreshed as leases for as long as the socket lives.
/// </summary>
internal sealed partial class AgentSession : ILocalAgentConnection, IDisposable
{
    private const int Handshaking = 0;
    private const int Active = 1;
    private const int Closed = 2;

    private readonly AgentSessionServices _services;
    private readonly FramedConnection _connection;
    private readonly ConcurrentDictionary<long, ActiveRequest> _requests = new();
    private readonly SemaphoreSlim _registrationLock = new(1, 1);
    private readonly HashSet<string> _registeredModels = new(StringComparer.Ordinal);
    private readonly string _remoteAddress;
    private readonly string? _downloadUrl;
    private HelloMessage? _hello;
    private Dictionary<string, string> _models = new(StringComparer.Ordinal);
    private int _state;
    private volatile bool _agentDraining;
    private volatile bool _goAwaySent;
    private Task _refresh = Task.CompletedTask;

    public AgentSession(WebSocket socket, AgentSessionServices services, string remoteAddress, string? downloadUrl)
    {
        _services = services;
        _remoteAddress = remoteAddress;
        _downloadUrl = downloadUrl;
        _connection = new FramedConnection(socket, services.ConnectionOptions);
        ConnectionId = AgentConnectionKey.Create(services.Silo, Guid.NewGuid().ToString("N")[..16]);
    }

    public string ConnectionId { get; }

    public string AgentId => _hello?.AgentId ?? string.Empty;

    public string? AgentName => _hello?.Name;

    public int InFlight => _requests.Count;

    public DateTimeOffset ConnectedAt { get; private set; } = DateTimeOffset.UtcNow;

    public bool IsActive => Volatile.Read(ref _state) == Active;

    /// <summary>The engine's load per model as the agent last reported it (protocol 2 agents that read their engine).</summary>
    public EngineSignalState EngineSignals { get; } = new();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var handshake = new CancellationTokenSource(_services.Options.HandshakeTimeout);
        await using var onTimeout = handshake.Token.Register(() =>
        {
            if (Volatile.Read(ref _state) == Handshaking)
            {
                _connection.Abort(ConnectionClosedReason.ProtocolViolation, "no hello within the handshake timeout");
            }
        });

        try
        {
            await _connection.RunAsync(OnFrameAsync, cancellationToken);
        }
        finally
        {
            await CloseAsync();
        }
    }

    public SendResult TryStart(RequestHead head, ReadOnlySpan<byte> body, IResponseSink sink)
    {
        if (Volatile.Read(ref _state) != Active)
        {
            return SendResult.ConnectionGone;
        }

        if (_agentDraining || _goAwaySent)
        {
            return SendResult.Draining;
        }

        if (!_requests.TryAdd(head.RequestId, new ActiveRequest(head.RequestId, head.Model, sink)))
        {
            return SendResult.Duplicate;
        }

        // Closing races with starting: whoever comes second must see the other.
        if (Volatile.Read(ref _state) != Active)
        {
            _requests.TryRemove(head.RequestId, out _);
            return SendResult.ConnectionGone;
        }

        var maxChunk = Math.Max(1024, (_services.Options.MaxFrameBytes / 2) - 1024);
        var first = Math.Min(body.Length, maxChunk);
        var sent = _connection.TrySend(FrameCodec.RequestHead(head with { EndOfBody = first == body.Length }, body[..first]));
        for (var offset = first; sent && offset < body.Length; offset += maxChunk)
        {
            var length = Math.Min(maxChunk, body.Length - offset);
            sent = _connection.TrySend(FrameCodec.RequestBody(head.RequestId, body.Slice(offset, length), offset + length == body.Length));
        }

        if (!sent)
        {
            _requests.TryRemove(head.RequestId, out _);
            return SendResult.ConnectionGone;
        }

        return SendResult.Accepted;
    }

    public void Cancel(long requestId)
    {
        if (_requests.TryRemove(requestId, out _))
        {
            _connection.TrySend(FrameCodec.Cancel(requestId));
        }
    }

    public void Grant(long requestId, int bytes)
    {
        if (_requests.TryGetValue(requestId, out var request))
        {
            request.AddOutstanding(-bytes);
            _connection.TrySend(FrameCodec.WindowUpdate(requestId, bytes));
        }
    }

    /// <summary>This silo is shutting down: the agent should connect elsewhere and finish what it has here.</summary>
    public void GoAway(string reason)
    {
        if (_goAwaySent || Volatile.Read(ref _state) != Active)
        {
            return;
        }

        _goAwaySent = true;
        _connection.TrySend(FrameCodec.Json(FrameType.GoAway, new GoAwayMessage(reason), ProtocolJsonContext.Default.GoAwayMessage));
        _ = PublishRegistrationsAsync();
    }

    /// <summary>Closes the socket at once, failing whatever is still in flight on it.</summary>
    public void Abort(string reason) => _connection.Abort(ConnectionClosedReason.ClosedLocally, reason);

    /// <summary>Requests in flight on this socket, by model.</summary>
    public IReadOnlyDictionary<string, int> InFlightByModel()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var model in _models.Keys)
        {
            counts[model] = 0;
        }

        foreach (var request in _requests.Values)
        {
            counts[request.Model] = counts.GetValueOrDefault(request.Model) + 1;
        }

        return counts;
    }

    public IEnumerable<InstanceRegistration> GetRegistrations(string? model)
    {
        if (Volatile.Read(ref _state) != Active)
        {
            return [];
        }

        var models = _models;
        if (model is null)
        {
            return models.Keys.Select(BuildRegistration).ToArray();
        }

        return models.ContainsKey(model) ? [BuildRegistration(model)] : [];
    }

    public AgentConnectionStatus GetStatus() => new()
    {
        AgentId = AgentId,
        ConnectionId = ConnectionId,
        Name = _hello?.Name,
        Hostname = _hello?.Hostname,
        Silo = _services.Silo.ToString(),
        Models = [.. _models.Keys],
        Capacity = _hello?.Capacity ?? 0,
        InFlight = _requests.Count,
        Draining = _agentDraining || _goAwaySent,
        ConnectedAt = ConnectedAt,
        LastHeartbeat = DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(Environment.TickCount64 - _connection.LastReceivedTick),
        RoundTripMs = _connection.RoundTripMs,
        AgentVersion = _hello?.ProductVersion,
        Engine = [.. EngineSignals.All],
    };

    public void Dispose()
    {
        _connection.Dispose();
        _registrationLock.Dispose();
    }

    private async ValueTask OnFrameAsync(Frame frame)
    {
        var type = frame.Type;
        if (Volatile.Read(ref _state) == Handshaking && type != FrameType.Hello)
        {
            frame.Return();
            throw new FrameFormatException($"expected a hello, got {type}");
        }

        switch (type)
        {
            case FrameType.Hello:
                HelloMessage hello;
                try
                {
                    if (Volatile.Read(ref _state) != Handshaking)
                    {
                        throw new FrameFormatException("hello sent twice");
                    }

                    hello = FrameCodec.ReadJson(frame.Span, ProtocolJsonContext.Default.HelloMessage);
                }
                finally
                {
                    frame.Return();
                }

                Accept(hello);
                break;

            case FrameType.ResponseHead:
                ResponseHead head;
                try
                {
                    head = FrameCodec.ReadResponseHead(frame.Span);
                }
                finally
                {
                    frame.Return();
                }

                if (_requests.TryGetValue(head.RequestId, out var headRequest))
                {
                    headRequest.Sink.OnHead(head);
                }
                else
                {
                    LogUnknownRequest(_services.Logger, AgentId, head.RequestId);
                }

                break;

            case FrameType.ResponseBody:
                var bodyId = FrameCodec.ReadRequestId(frame.Span);
                if (!_requests.TryGetValue(bodyId, out var bodyRequest))
                {
                    frame.Return();
                    break;
                }

                var count = frame.Length - FrameCodec.RequestPayloadOffset;
                if (bodyRequest.AddOutstanding(count) > _services.Options.InitialWindowBytes + (long)_services.Options.MaxFrameBytes)
                {
                    frame.Return();
                    LogWindowExceeded(_services.Logger, AgentId, bodyId);
                    FailRequest(bodyId, AgentErrorCodes.UpstreamError, "the agent sent more than its flow-control window");
                    break;
                }

                bodyRequest.Sink.OnBody(frame, FrameCodec.RequestPayloadOffset);
                break;

            case FrameType.ResponseEnd:
                ResponseEnd end;
                try
                {
                    end = FrameCodec.ReadResponseEnd(frame.Span);
                }
                finally
                {
                    frame.Return();
                }

                if (_requests.TryRemove(end.RequestId, out var endRequest))
                {
                    endRequest.Sink.OnEnd(end);
                }

                break;

            case FrameType.ModelsUpdate:
                ModelsUpdateMessage update;
                try
                {
                    update = FrameCodec.ReadJson(frame.Span, ProtocolJsonContext.Default.ModelsUpdateMessage);
                }
                finally
                {
                    frame.Return();
                }

                var problem = HelloValidator.CheckModels(update.Models);
                if (problem is not null)
                {
                    throw new FrameFormatException($"invalid model update: {problem}");
                }

                _models = ToModelMap(update.Models);
                LogModelsChanged(_services.Logger, AgentId, _models.Count);
                _ = PublishRegistrationsAsync();
                break;

            case FrameType.EngineSignals:
                EngineSignalsMessage signals;
                try
                {
                    signals = FrameCodec.ReadJson(frame.Span, ProtocolJsonContext.Default.EngineSignalsMessage);
                }
                finally
                {
                    frame.Return();
                }

                if (EngineSignalsValidator.Check(signals, _hello!.ProtocolVersion, _models) is { } invalid)
                {
                    throw new FrameFormatException($"invalid engine signals: {invalid}");
                }

                EngineSignals.Update(signals, Environment.TickCount64, DateTimeOffset.UtcNow);
                break;

            case FrameType.Draining:
                frame.Return();
                _agentDraining = true;
                LogAgentDraining(_services.Logger, AgentId, _requests.Count);
                _ = PublishRegistrationsAsync();
                break;

            default:
                frame.Return();
                throw new FrameFormatException($"unexpected frame type {(byte)type}");
        }

        await Task.CompletedTask;
    }

    private void Accept(HelloMessage hello)
    {
        var rejection = HelloValidator.Validate(hello, _services.Options, _downloadUrl);
        if (rejection is not null)
        {
            // Whatever the agent claimed (its id, its version in the reason) is logged sanitized: no forged lines.
            LogRejected(_services.Logger, _remoteAddress, OpenAIError.Sanitize(hello.AgentId), rejection.Code, OpenAIError.Sanitize(rejection.Reason));
            _connection.TrySend(FrameCodec.Json(FrameType.Reject, rejection, ProtocolJsonContext.Default.RejectMessage));
            _connection.Complete(WebSocketCloseStatus.PolicyViolation, rejection.Code);
            return;
        }

        _hello = hello;
        _models = ToModelMap(hello.Models);
        ConnectedAt = DateTimeOffset.UtcNow;
        var welcome = new WelcomeMessage
        {
            ProtocolVersion = ProtocolVersion.Current,
            ServerVersion = ProtocolVersion.Product,
            SiloId = _services.Silo.ToParsableString(),
            ConnectionId = ConnectionId,
            SiloCount = _services.Cluster.ActiveSiloCount,
            HeartbeatIntervalMs = (int)_services.Options.HeartbeatInterval.TotalMilliseconds,
            HeartbeatTimeoutMs = (int)_services.Options.HeartbeatTimeout.TotalMilliseconds,
            MaxFrameBytes = _services.Options.MaxFrameBytes,
            InitialWindowBytes = _services.Options.InitialWindowBytes,
        };
        _connection.TrySend(FrameCodec.Json(FrameType.Welcome, welcome, ProtocolJsonContext.Default.WelcomeMessage));
        Volatile.Write(ref _state, Active);
        _services.Registry.Add(this);
        _services.Metrics.AgentConnections.Add(1);
        if (hello.Reconnects > 0)
        {
            _services.Metrics.AgentReconnects.Add(1);
        }

        LogConnected(_services.Logger, hello.AgentId, hello.Name, _remoteAddress, hello.ProductVersion, _models.Count, hello.Capacity);
        _refresh = RefreshLoopAsync(_connection.Aborted);
    }

    private static Dictionary<string, string> ToModelMap(IReadOnlyList<ModelAdvert> models)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var model in models)
        {
            map.TryAdd(model.Id, HelloValidator.MetadataOf(model));
        }

        return map;
    }

    private InstanceRegistration BuildRegistration(string model)
    {
        var hello = _hello!;
        _models.TryGetValue(model, out var metadata);
        return new InstanceRegistration
        {
            Model = model,
            AgentId = hello.AgentId,
            ConnectionId = ConnectionId,
            Silo = _services.Silo,
            Name = hello.Name,
            Hostname = hello.Hostname,
            Capacity = hello.Capacity,
            MetadataJson = metadata ?? "{}",
            ActiveRequests = [.. _requests.Values.Where(r => r.Model == model).Select(r => r.Id)],
            Draining = _agentDraining || _goAwaySent,
            AgentVersion = hello.ProductVersion,
            ConnectedAt = ConnectedAt,
            Engine = EngineSignals.TryGet(model, out var engine) ? engine : null,
        };
    }

    private async Task RefreshLoopAsync(CancellationToken aborted)
    {
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                // A failed refresh (the model grain's silo just died) is retried soon, not a whole period later.
                var published = await PublishRegistrationsAsync();
                await Task.Delay(published ? _services.Options.RegistrationRefreshInterval : TimeSpan.FromSeconds(1), aborted);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Upserts this socket's models into their grains and withdraws the ones it no longer serves.</summary>
    private async Task<bool> PublishRegistrationsAsync()
    {
        if (Volatile.Read(ref _state) != Active)
        {
            return true;
        }

        await _registrationLock.WaitAsync();
        try
        {
            if (Volatile.Read(ref _state) != Active)
            {
                return true;
            }

            var models = _models;
            var removed = _registeredModels.Where(m => !models.ContainsKey(m)).ToArray();
            var calls = new List<Task>(models.Count + removed.Length);
            foreach (var model in models.Keys)
            {
                calls.Add(_services.Grains.GetGrain<IModelGrain>(model).Register(BuildRegistration(model)));
            }

            foreach (var model in removed)
            {
                calls.Add(_services.Grains.GetGrain<IModelGrain>(model).Unregister(AgentId, ConnectionId));
            }

            var published = true;
            try
            {
                await Task.WhenAll(calls);
            }
            catch (Exception ex)
            {
                published = false;
                LogRegistrationFailed(_services.Logger, ex, AgentId);
            }

            _registeredModels.Clear();
            _registeredModels.UnionWith(models.Keys);
            return published;
        }
        finally
        {
            _registrationLock.Release();
        }
    }

    private void FailRequest(long requestId, string code, string message)
    {
        if (_requests.TryRemove(requestId, out var request))
        {
            _connection.TrySend(FrameCodec.Cancel(requestId));
            request.Sink.OnEnd(new ResponseEnd(requestId, code, message));
        }
    }

    private async Task CloseAsync()
    {
        var previous = Interlocked.Exchange(ref _state, Closed);
        if (previous == Closed)
        {
            return;
        }

        _services.Registry.Remove(this);
        foreach (var id in _requests.Keys)
        {
            if (_requests.TryRemove(id, out var request))
            {
                request.Sink.OnEnd(new ResponseEnd(id, AgentErrorCodes.AgentDisconnected, "The agent serving this request disconnected."));
            }
        }

        if (previous == Active)
        {
            LogDisconnected(_services.Logger, AgentId, _hello?.Name, _connection.ClosedReason, OpenAIError.Sanitize(_connection.CloseDescription));
            await _refresh.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _registrationLock.WaitAsync();
            try
            {
                var calls = _registeredModels.Select(m => _services.Grains.GetGrain<IModelGrain>(m).Unregister(AgentId, ConnectionId));
                await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex)
            {
                // The model grains also drop the socket when its registration lease expires.
                LogRegistrationFailed(_services.Logger, ex, AgentId);
            }
            finally
            {
                _registrationLock.Release();
            }
        }
        else
        {
            // The description may be the peer's own close reason.
            LogHandshakeFailed(_services.Logger, _remoteAddress, _connection.ClosedReason, OpenAIError.Sanitize(_connection.CloseDescription));
        }
    }
}
