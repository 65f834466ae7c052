using Microsoft.Extensions.Options;
using Synapse.Silo.Hosting;
using Synapse.Silo.Observability;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Forwarding;

/// <summary>
/// Forwards one API call: leases an instance of its model, makes one <see cref="ForwardingAttempt"/> on it, and when
/// the attempt failed before anything reached the caller, tries again as far as the <see cref="RetryBudget"/> allows
/// (another instance, or another path to the same one). Once the caller saw a byte there is no retry: the failure
/// ends the response instead. Every failure the caller is told of is described by <see cref="ForwarderErrors"/>.
/// </summary>
internal sealed partial class RequestForwarder(
    InstanceLeaser leaser,
    ForwardingAttempt attempt,
    IOptions<GatewayOptions> options,
    ILogger<RequestForwarder> logger)
{
    private readonly GatewayOptions _options = options.Value;

    public async Task ForwardAsync(HttpContext context, ForwardedRequest request, RequestTelemetry telemetry)
    {
        var cancellationToken = context.RequestAborted;
        var budget = new RetryBudget(_options.MaxAttempts, _options.MaxPathRetries, _options.PathRetryWindow);
        while (await budget.BeforeNextAttemptAsync(cancellationToken))
        {
            var (lease, refusal) = await leaser.AcquireAsync(request.Group, request.Model, request.AffinityKey, budget, cancellationToken);
            if (lease is null)
            {
                if (refusal is { } refused)
                {
                    await RefuseAsync(context, request.Model, refused, budget, telemetry);
                }

                return;
            }

            using (lease)
            {
                telemetry.Queued(lease.Queued);
                telemetry.Serving();
                var result = await attempt.RunAsync(context, request, lease, budget.MayTryAnotherInstance, telemetry);
                switch (result.Outcome)
                {
                    case AttemptOutcome.Completed:
                        return;

                    case AttemptOutcome.CallerGone:
                        LogCallerGone(logger, request.Model, lease.Lease.AgentId);
                        return;

                    case AttemptOutcome.Failed when result.Committed:
                        telemetry.FailedWith = ForwarderErrors.CodeOf(result.Failure.Error);
                        LogFailedMidway(logger, request.Model, lease.Lease.AgentId, ForwarderErrors.CodeOf(result.Failure.Error));
                        return;

                    case AttemptOutcome.Failed when budget.TryRetry(result.Failure, lease.Lease):
                        telemetry.Retried(ForwarderErrors.RetryOf(result.Failure.Error) == RetryKind.Path ? "path" : "instance");
                        LogRetrying(logger, request.Model, lease.Lease.AgentId, ForwarderErrors.CodeOf(result.Failure.Error), budget.Failures);
                        continue;

                    default:
                        await ForwarderErrors.WriteAsync(context, request.Model, result.Failure, budget.Failures > 0 ? $" ({budget.Failures + 1} attempts)" : null);
                        return;
                }
            }
        }
    }

    /// <summary>No instance could be leased: say why, or, when every instance was tried and failed, how they failed.</summary>
    private static Task RefuseAsync(HttpContext context, string model, Failure refusal, RetryBudget budget, RequestTelemetry telemetry)
    {
        if (budget.LastInstanceFailure is { } failed && refusal.Error is ForwarderError.ModelNotFound or ForwarderError.NoLiveInstance)
        {
            return ForwarderErrors.WriteAsync(context, model, failed);
        }

        if (refusal.Error == ForwarderError.ModelNotFound)
        {
            telemetry.ModelUnknown();
        }

        return ForwarderErrors.WriteAsync(context, model, refusal);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: instance {AgentId} failed before answering ({Reason}), attempt {Attempt}; trying again")]
    private static partial void LogRetrying(ILogger logger, string model, string agentId, string reason, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model}: caller went away; cancelled the request on instance {AgentId}")]
    private static partial void LogCallerGone(ILogger logger, string model, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: instance {AgentId} failed after it started answering ({Reason})")]
    private static partial void LogFailedMidway(ILogger logger, string model, string agentId, string reason);
}
