using Synapse.Protocol.Transport;

namespace Synapse.Silo.Agents;

internal sealed partial class AgentSession
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} ({Name}) connected from {Remote}, version {Version}, {Models} models, capacity {Capacity}")]
    private static partial void LogConnected(ILogger logger, string agentId, string? name, string remote, string version, int models, int capacity);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} ({Name}) disconnected: {Reason} {Description}")]
    private static partial void LogDisconnected(ILogger logger, string agentId, string? name, ConnectionClosedReason reason, string? description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent connection from {Remote} closed before a valid handshake: {Reason} {Description}")]
    private static partial void LogHandshakeFailed(ILogger logger, string remote, ConnectionClosedReason reason, string? description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused agent {AgentId} from {Remote}: {Code}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string remote, string? agentId, string code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} now serves {Count} models")]
    private static partial void LogModelsChanged(ILogger logger, string agentId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} is draining with {InFlight} requests in flight")]
    private static partial void LogAgentDraining(ILogger logger, string agentId, int inFlight);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Agent {AgentId} answered request {RequestId}, which is not in flight")]
    private static partial void LogUnknownRequest(ILogger logger, string agentId, long requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId} sent an invalid response head for request {RequestId} ({Problem}); failed it so another instance can serve it")]
    private static partial void LogInvalidHead(ILogger logger, string agentId, long requestId, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId} sent more than its flow-control window on request {RequestId}; failed that request")]
    private static partial void LogWindowExceeded(ILogger logger, string agentId, long requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: its key {KeyName} no longer admits it into its group; closing (key_revoked)")]
    private static partial void LogKeyRevoked(ILogger logger, string agentId, string keyName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check the identity of agent {AgentId}; told it to retry")]
    private static partial void LogIdentityUnavailable(ILogger logger, Exception exception, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not update the registrations of agent {AgentId}; the next refresh retries")]
    private static partial void LogRegistrationFailed(ILogger logger, Exception exception, string agentId);
}
