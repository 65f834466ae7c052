using System.Collections.Concurrent;
using System.Net.WebSockets;
using Synapse.Grains.Agents;
using Synapse.Grains.Models;
using Synapse.Grains.Responses;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Protocol.Transport;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Tenancy;

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

    /// <summary>The hello was refused: nothing more from this socket is protocol, and nothing of it registers.</summary>
    private const int Rejected = 3;

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

    public AgentSession(WebSocket socket, AgentSessionServices services, AgentCredential credential, string remoteAddress, string? downloadUrl)
    {
        _services = services;
        Credential = credential;
        Group = credential.Group.Name;
        _remoteAddress = remoteAddress;
        _downloadUrl = downloadUrl;
        _connection = new FramedConnection(socket, services.ConnectionOptions);
        ConnectionId = AgentConnectionKey.Create(services.Silo, Guid.NewGuid().ToString("N")[..16]);
    }

    public string ConnectionId { get; }

    /// <summary>The key group the agent's WebSocket key belongs to; nothing the agent says can change it.</summary>
    public string Group { get; }

    /// <summary>The key the agent was admitted with, checked again whenever the key groups are reloaded.</summary>
    public AgentCredential Credential { get; }

    public AgentClaim? Claim { get; private set; }

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
                _connection.Complete(WebSocketCloseStatus.PolicyViolation, $"no hello within {_services.Options.HandshakeTimeout.TotalSeconds:0.#} s");
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

    /// <summary>The agent's key no longer admits it (removed, or moved to another group): close with <c>key_revoked</c>.</summary>
    public void Revoke()
    {
        LogKeyRevoked(_services.Logger, OpenAIError.Sanitize(AgentId), Credential.KeyName);
        _connection.Complete(WebSocketCloseStatus.PolicyViolation, RejectMessage.KeyRevoked);
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
        Group = Group,
    };

    public void Dispose()
    {
        _connection.Dispose();
        _registrationLock.Dispose();
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

    private void FailRequest(long requestId, string code, string message)
    {
        if (_requests.TryRemove(requestId, out var request))
        {
            _connection.TrySend(FrameCodec.Cancel(requestId));
            request.Sink.Write(ResponseEvent.End(code, message));
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
                request.Sink.Write(ResponseEvent.End(GatewayErrorCodes.AgentDisconnected, "The agent serving this request disconnected."));
            }
        }

        // After the callers were told (a slow identity grain must not delay their answer) and after the socket left the
        // registry (which the identity grain asks before it lets another process take the id).
        if (Claim is { } claim)
        {
            try
            {
                await _services.Identity(Group, claim.AgentId).Release(Group, claim.AgentId, ConnectionId).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex)
            {
                // The identity grain asks this silo before it lets anyone else take the id, so nothing is held for ever.
                LogRegistrationFailed(_services.Logger, ex, claim.AgentId);
            }
        }

        if (previous == Active)
        {
            LogDisconnected(_services.Logger, AgentId, _hello?.Name, _connection.ClosedReason, OpenAIError.Sanitize(_connection.CloseDescription));
            await _refresh.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _registrationLock.WaitAsync();
            try
            {
                var calls = _registeredModels.Select(m => _services.ModelGrain(Group, m).Unregister(AgentId, ConnectionId));
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
        else if (previous == Handshaking)
        {
            // The description may be the peer's own close reason.
            LogHandshakeFailed(_services.Logger, _remoteAddress, _connection.ClosedReason, OpenAIError.Sanitize(_connection.CloseDescription));
        }
    }
}
