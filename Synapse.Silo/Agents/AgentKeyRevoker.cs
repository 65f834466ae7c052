using Synapse.Silo.Tenancy;

namespace Synapse.Silo.Agents;

/// <summary>
/// When the key groups are reloaded, closes the agent sockets whose key was removed or moved to another group
/// (close reason <c>key_revoked</c>); their models leave <c>/v1/models</c> as the sockets close. Agents whose key
/// still admits them into the same group are not touched.
/// </summary>
internal sealed partial class AgentKeyRevoker(TenancyConfigSource tenancy, AgentSessionRegistry sessions, ILogger<AgentKeyRevoker> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        tenancy.Changed += OnChanged;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        tenancy.Changed -= OnChanged;
        return Task.CompletedTask;
    }

    private void OnChanged(object? sender, TenancyConfigChangedEventArgs change)
    {
        var revoked = 0;
        foreach (var session in sessions.Sessions)
        {
            if (!change.Current.StillAdmits(session.Credential))
            {
                revoked++;
                session.Revoke();
            }
        }

        if (revoked > 0)
        {
            LogRevoked(logger, revoked);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key groups reloaded: closed {Count} agent sockets whose key was removed or moved to another group")]
    private static partial void LogRevoked(ILogger logger, int count);
}
