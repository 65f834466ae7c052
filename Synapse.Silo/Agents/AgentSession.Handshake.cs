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

namespace Synapse.Silo.Agents;

/// <summary>The handshake: the hello checked, the agent's identity claimed cluster-wide, then welcome or refusal.</summary>
internal sealed partial class AgentSession
{
    private async ValueTask AcceptAsync(HelloMessage hello)
    {
        var rejection = HelloValidator.Validate(hello, _services.Options, _downloadUrl)
            ?? await ClaimIdentityAsync(hello);
        if (rejection is not null)
        {
            Reject(hello, rejection);
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
        _refresh = PublishUntilDoneAsync(_connection.Aborted);
    }

    /// <summary>
    /// Takes the agent id for this agent process (its instance token), cluster-wide: sockets of one process are one
    /// instance, and nobody else can take over, shadow or overwrite an agent whose sockets are up.
    /// </summary>
    private async ValueTask<RejectMessage?> ClaimIdentityAsync(HelloMessage hello)
    {
        var claim = new AgentClaim
        {
            Group = Group,
            AgentId = hello.AgentId,
            InstanceToken = hello.InstanceToken ?? string.Empty,
            ConnectionId = ConnectionId,
            Silo = _services.Silo,
        };
        AgentClaimResult result;
        try
        {
            result = await _services.Identity(Group, hello.AgentId).Claim(claim).WaitAsync(_services.Options.IdentityTimeout, _connection.Aborted);
        }
        catch (Exception ex) when (!_connection.Aborted.IsCancellationRequested)
        {
            LogIdentityUnavailable(_services.Logger, ex, hello.AgentId);
            return HelloValidator.Refuse(RejectMessage.RegistryUnavailable, "the gateway could not check this agent's identity just now; retry");
        }

        if (result == AgentClaimResult.InUse)
        {
            return HelloValidator.Refuse(RejectMessage.AgentIdInUse,
                $"agent id '{hello.AgentId}' is held by another running agent process; give each agent its own --agent-id (a restarted agent is accepted once its old connections are gone)");
        }

        Claim = claim;
        return null;
    }

    private void Reject(HelloMessage hello, RejectMessage rejection)
    {
        Volatile.Write(ref _state, Rejected);

        // Whatever the agent claimed (its id, its version in the reason) is logged sanitized: no forged lines.
        LogRejected(_services.Logger, _remoteAddress, OpenAIError.Sanitize(hello.AgentId), rejection.Code, OpenAIError.Sanitize(rejection.Reason));
        _connection.TrySend(FrameCodec.Json(FrameType.Reject, rejection, ProtocolJsonContext.Default.RejectMessage));
        _connection.Complete(WebSocketCloseStatus.PolicyViolation, rejection.Code);
    }
}
