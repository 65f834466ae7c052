using Microsoft.Extensions.Options;
using Synapse.Silo.Hosting;
using Synapse.Silo.Observability;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Forwarding;

/// <summary>
/// Forwards one API call: leases an instance of its model, makes one <see cref="ForwardingAttempt"/> on it, and when
/// the attempt failed before anything reached the caller, tries again as far as the <see cref="RetryBudget"/> allows
/// (another instance, or another path to the same one). Once the caller saw a byte there is no retry: the failure
/// ends the response instead. When the leaser refuses the model, the request goes on to its fallbacks
/// (<see cref="FallbackRoute"/>); when they refuse too, the caller is told the model's own refusal. Every failure
/// the caller is told of is described by <see cref="ForwarderErrors"/>.
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
        if (await ServeAsync(context, request, telemetry, via: null) is not { } refused)
        {
            return;
        }

        if (FallbackRoute.Follows(refused.Refusal) && request.Fallbacks.Count > 0)
        {
            using var fallbacks = new FallbackRoute(request, refused.Refusal, logger);
            while (fallbacks.Next() is { } fallback)
            {
                if (await ServeAsync(context, fallback, telemetry, fallbacks) is null)
                {
                    return;
                }

                fallbacks.Refused(context, telemetry);
            }
        }

        if (refused.Answer.Error == ForwarderError.ModelNotFound)
        {
            telemetry.ModelUnknown();
        }

        await ForwarderErrors.WriteAsync(context, request.Model, refused.Answer);
    }

    /// <summary>
    /// Serves the request with its <see cref="ForwardedRequest.Model"/>: leases an instance and attempts, again while
    /// the budget allows. Null once the request was answered (or failed, or the caller left); the leaser's refusal
    /// when no instance could take it, with nothing sent to the caller yet.
    /// </summary>
    /// <param name="via">The fallbacks, when this model is one of them: told when an instance of it takes the request.</param>
    private async Task<Refused?> ServeAsync(HttpContext context, ForwardedRequest request, RequestTelemetry telemetry, FallbackRoute? via)
    {
        var cancellationToken = context.RequestAborted;
        var budget = new RetryBudget(_options.MaxAttempts, _options.MaxPathRetries, _options.PathRetryWindow);
        while (await budget.BeforeNextAttemptAsync(cancellationToken))
        {
            var (lease, refusal) = await leaser.AcquireAsync(request.Group, request.Model, request.AffinityKey, budget, cancellationToken);
            if (lease is null)
            {
                return refusal is { } refused ? new Refused(refused, Explain(refused, budget)) : null;
            }

            using (lease)
            {
                if (via is not null && budget.Failures == 0)
                {
                    via.Serving(context, request, telemetry);
                }

                telemetry.Queued(lease.Queued);
                telemetry.Serving();
                var result = await attempt.RunAsync(context, request, lease, budget.MayTryAnotherInstance, telemetry);
                switch (result.Outcome)
                {
                    case AttemptOutcome.Completed:
                        return null;

                    case AttemptOutcome.CallerGone:
                        LogCallerGone(logger, request.Model, request.Requested, lease.Lease.AgentId);
                        return null;

                    case AttemptOutcome.Failed when result.Committed:
                        telemetry.FailedWith = ForwarderErrors.CodeOf(result.Failure.Error);
                        LogFailedMidway(logger, request.Model, request.Requested, lease.Lease.AgentId, ForwarderErrors.CodeOf(result.Failure.Error));
                        return null;

                    case AttemptOutcome.Failed when budget.TryRetry(result.Failure, lease.Lease):
                        telemetry.Retried(ForwarderErrors.RetryOf(result.Failure.Error) == RetryKind.Path ? "path" : "instance");
                        LogRetrying(logger, request.Model, request.Requested, lease.Lease.AgentId, ForwarderErrors.CodeOf(result.Failure.Error), budget.Failures);
                        continue;

                    default:
                        await ForwarderErrors.WriteAsync(context, request.Model, result.Failure, budget.Failures > 0 ? $" ({budget.Failures + 1} attempts)" : null);
                        return null;
                }
            }
        }

        return null;
    }

    /// <summary>What to tell the caller of a refusal: why, or, when every instance was tried and failed, how they failed.</summary>
    private static Failure Explain(Failure refusal, RetryBudget budget) =>
        budget.LastInstanceFailure is { } failed && refusal.Error is ForwarderError.ModelNotFound or ForwarderError.NoLiveInstance
            ? failed
            : refusal;

    /// <summary>The leaser's refusal (what decides on fallbacks) and what the caller is told of it.</summary>
    private readonly record struct Refused(Failure Refusal, Failure Answer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model} (asked for as {Requested}): instance {AgentId} failed before answering ({Reason}), attempt {Attempt}; trying again")]
    private static partial void LogRetrying(ILogger logger, string model, string requested, string agentId, string reason, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} (asked for as {Requested}): caller went away; cancelled the request on instance {AgentId}")]
    private static partial void LogCallerGone(ILogger logger, string model, string requested, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model} (asked for as {Requested}): instance {AgentId} failed after it started answering ({Reason})")]
    private static partial void LogFailedMidway(ILogger logger, string model, string requested, string agentId, string reason);
}
