using Microsoft.Extensions.Options;
using Synapse.Grains.Agents;
using Synapse.Grains.Models;
using Synapse.Silo.Cluster;

namespace Synapse.Silo.Agents;

/// <summary>
/// Refreshes the registrations of every agent socket this silo holds, every <see cref="AgentSessionOptions.RegistrationRefreshInterval"/>,
/// in one call per model grain (<see cref="IModelGrain.RegisterMany"/>): the registrations are leases the model
/// grains drop when they are not refreshed, and a silo holding 1,000 idle agents would otherwise make 200 grain calls
/// a second doing nothing. A round that fails (a model grain's silo just died) is tried again after
/// <see cref="AgentSessionOptions.RegistrationRetryDelay"/>.
/// </summary>
internal sealed partial class RegistrationRefresher(
    AgentSessionRegistry registry,
    GrainReferences grains,
    IOptions<AgentSessionOptions> options,
    ILogger<RegistrationRefresher> logger) : BackgroundService
{
    /// <summary>Sockets' registration locks are held for the round: it must not wait on a dead silo for long.</summary>
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var delay = settings.RegistrationRefreshInterval;
        try
        {
            while (true)
            {
                await Task.Delay(delay, stoppingToken);
                delay = await RefreshAsync(stoppingToken) ? settings.RegistrationRefreshInterval : settings.RegistrationRetryDelay;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round; false when a model grain could not be reached.</summary>
    internal async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        var held = new List<AgentSession>();
        try
        {
            var batches = new Dictionary<string, List<InstanceRegistration>>(StringComparer.Ordinal);
            foreach (var session in registry.Sessions)
            {
                if (session.TryBeginRefresh() is not { } registrations)
                {
                    continue;
                }

                held.Add(session);
                foreach (var registration in registrations)
                {
                    var key = ModelKey.For(registration.Group, registration.Model);
                    if (!batches.TryGetValue(key, out var batch))
                    {
                        batches[key] = batch = [];
                    }

                    batch.Add(registration);
                }
            }

            await Task.WhenAll(batches.Select(b => grains.Model(b.Key).RegisterMany([.. b.Value]))).WaitAsync(RoundTimeout, cancellationToken);
            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogRefreshFailed(logger, ex, held.Count);
            return false;
        }
        finally
        {
            foreach (var session in held)
            {
                session.EndRefresh();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing the registrations of {Sockets} agent sockets failed; trying again shortly")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception, int sockets);
}
