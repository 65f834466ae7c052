using Microsoft.Extensions.Options;
using Synapse.Grains.Models;
using Synapse.Grains.Relay;
using Synapse.Protocol;
using Synapse.Silo.Cluster;
using Synapse.Silo.Hosting;

namespace Synapse.Silo.Forwarding;

/// <summary>
/// Leases an instance of a model from its grain for one attempt, waiting in the model's queue while all are busy,
/// and riding out a registry that is briefly unreachable (its silo just died and membership has not said so yet):
/// a request that has not started should succeed elsewhere, not fail.
/// </summary>
internal sealed partial class InstanceLeaser(
    GrainReferences grains,
    RemoteResponseTable remoteResponses,
    ILocalSiloDetails silo,
    IOptions<GatewayOptions> options,
    ILogger<InstanceLeaser> logger)
{
    private static readonly Backoff RegistryBackoff = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250));

    private readonly GatewayOptions _options = options.Value;

    /// <summary>A lease, or the grain's refusal; both null when the caller left.</summary>
    public async Task<(InstanceLease? Lease, Failure? Refusal)> AcquireAsync(string group, string model, ulong affinityKey, RetryBudget budget, CancellationToken cancellationToken)
    {
        var grain = grains.Model(ModelKey.For(group, model));
        var deadline = Environment.TickCount64 + (long)_options.RegistryRetryWindow.TotalMilliseconds;
        for (var attempt = 0; ; attempt++)
        {
            AcquireResult result;
            try
            {
                result = await grain.Acquire(
                    new AcquireRequest
                    {
                        RequestId = remoteResponses.NewRequestId(),
                        CallerSilo = silo.SiloAddress,
                        ExcludedAgents = [.. budget.ExcludedAgents],
                        ExcludedConnections = [.. budget.ExcludedConnections],
                        ReconnectGrace = budget.AnyExcluded ? _options.FailoverWait : null,
                        AffinityKey = affinityKey,
                    },
                    cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return (null, null);
            }
            catch (Exception ex) when (Environment.TickCount64 < deadline)
            {
                LogRegistryRetry(logger, ex, model);
                if (!await RegistryBackoff.WaitAsync(attempt, cancellationToken))
                {
                    return (null, null);
                }

                continue;
            }
            catch (Exception ex)
            {
                LogRegistryUnavailable(logger, ex, model);
                return (null, new Failure(ForwarderError.RegistryUnavailable, RetryAfterSeconds: 1));
            }

            return result.Status == AcquireStatus.Granted
                ? (new InstanceLease(grain, result.Lease!, result.Queued, logger), null)
                : (null, ForwarderErrors.FromAcquire(result));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: the model registry did not answer; retrying")]
    private static partial void LogRegistryRetry(ILogger logger, Exception exception, string model);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Model}: the model registry is unreachable")]
    private static partial void LogRegistryUnavailable(ILogger logger, Exception exception, string model);
}
