using Microsoft.Extensions.Logging;

namespace Synapse.Grains.Models;

internal sealed partial class ModelGrain
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model}: instance {AgentId} ({Name}) added on silo {Silo}")]
    private static partial void LogInstanceAdded(ILogger logger, string model, string agentId, string? name, SiloAddress silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model}: instance {AgentId} removed ({Reason})")]
    private static partial void LogInstanceRemoved(ILogger logger, string model, string agentId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: queue full at {Length} waiting requests")]
    private static partial void LogQueueFull(ILogger logger, string model, int length);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model}: dropped {Count} stale in-flight counts of instance {AgentId}")]
    private static partial void LogLeasesReconciled(ILogger logger, string model, string agentId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: instance {AgentId} cooling down after {Failures} failures in a row")]
    private static partial void LogCooldown(ILogger logger, string model, string agentId, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model}: rebuilt {Count} registrations from {Silos} silos")]
    private static partial void LogRebuilt(ILogger logger, string model, int count, int silos);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: silo {Silo} did not report its sockets while rebuilding")]
    private static partial void LogRebuildSiloFailed(ILogger logger, Exception exception, string model, SiloAddress silo);
}
