namespace Synapse.Silo.Tenancy;

public sealed partial class TenancyConfigSource
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Key groups reloaded from {File} ({Trigger}): {Groups} groups, {ApiKeys} API keys, {AgentKeys} agent keys, {AdminKeys} admin keys, fingerprint {Fingerprint}")]
    private static partial void LogReloaded(ILogger logger, string file, TenancyReloadTrigger trigger, int groups, int apiKeys, int agentKeys, int adminKeys, string fingerprint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Key groups file {File} read ({Trigger}): unchanged, fingerprint {Fingerprint} stays in force")]
    private static partial void LogUnchanged(ILogger logger, string file, TenancyReloadTrigger trigger, string fingerprint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key groups file {File} is invalid ({Trigger}); keeping fingerprint {Fingerprint}. {Count} errors: {Errors}")]
    private static partial void LogInvalid(ILogger logger, string file, TenancyReloadTrigger trigger, string fingerprint, int count, string errors);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key groups file {File} cannot be read ({Trigger}); keeping fingerprint {Fingerprint}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string file, TenancyReloadTrigger trigger, string fingerprint, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "A listener of key-groups changes failed on fingerprint {Fingerprint}; the new config is in force regardless")]
    private static partial void LogListenerFailed(ILogger logger, Exception exception, string fingerprint);
}
