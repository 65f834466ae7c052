using System.Diagnostics;
using Microsoft.Extensions.Options;
using Synapse.Grains.Models;
using Synapse.Protocol.Messages;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Hosting;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// The request path: lease an instance from the model's grain, start the request on it, and retry on another
/// instance when it fails before answering (socket gone, upstream refused, 502/503). Once the first byte went to
/// the caller there is no retry; failures become error events instead. Every lease is released exactly once.
/// </summary>
internal sealed partial class RequestForwarder(
    IGrainFactory grains,
    UpstreamConnector connector,
    ILocalSiloDetails silo,
    IOptions<GatewayOptions> options,
    ILogger<RequestForwarder> logger)
{
    private readonly GatewayOptions _options = options.Value;

    public async Task ForwardAsync(HttpContext context, ForwardedRequest request)
    {
        var cancellationToken = context.RequestAborted;
        var model = grains.GetGrain<IModelGrain>(request.Model);
        var excluded = new List<string>();
        (string Code, string? Detail)? lastFailure = null;

        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            var last = attempt == _options.MaxAttempts;
            AcquireResult acquired;
            try
            {
                acquired = await model.Acquire(
                    new AcquireRequest { RequestId = NewRequestId(), CallerSilo = silo.SiloAddress, ExcludedAgents = [.. excluded] },
                    cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRegistryUnavailable(logger, ex, request.Model);
                await OpenAIError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, OpenAIError.Server, "registry_unavailable",
                    "The gateway could not reach the model registry; try again.", retryAfterSeconds: 1);
                return;
            }

            if (acquired.Status != AcquireStatus.Granted)
            {
                await WriteUnavailableAsync(context, request.Model, acquired, lastFailure);
                return;
            }

            var lease = acquired.Lease!;
            var started = Stopwatch.GetTimestamp();
            UpstreamCall? call;
            try
            {
                (call, var result) = await connector.StartAsync(lease, request, cancellationToken);
                if (call is null)
                {
                    Release(model, lease.RequestId, LeaseOutcome.Failure(beforeResponse: true));
                    excluded.Add(lease.AgentId);
                    lastFailure = (AgentErrorCodes.UpstreamUnreachable, $"instance {lease.AgentName ?? lease.AgentId} is not reachable ({result})");
                    LogRetrying(logger, request.Model, lease.AgentId, result.ToString(), attempt);
                    continue;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Release(model, lease.RequestId, LeaseOutcome.Failure(beforeResponse: true));
                return;
            }

            using (call)
            {
                ResponseEvent first;
                try
                {
                    first = await call.Channel.ReadAsync(cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    call.Cancel();
                    Release(model, lease.RequestId, LeaseOutcome.Failure(beforeResponse: false));
                    LogCallerGone(logger, request.Model, lease.AgentId);
                    return;
                }

                if (!last && IsRetryable(first))
                {
                    if (first.Kind == ResponseEventKind.Head)
                    {
                        call.Cancel();
                    }

                    Release(model, lease.RequestId, LeaseOutcome.Failure(beforeResponse: true));
                    excluded.Add(lease.AgentId);
                    lastFailure = first.Kind == ResponseEventKind.End
                        ? (first.ErrorCode!, first.ErrorMessage)
                        : (AgentErrorCodes.UpstreamError, $"upstream answered {first.StatusCode}");
                    LogRetrying(logger, request.Model, lease.AgentId, lastFailure.Value.Code, attempt);
                    continue;
                }

                var timeToHead = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (first.Kind == ResponseEventKind.End)
                {
                    // Failed before answering and no attempts left (or not retryable).
                    Release(model, lease.RequestId, LeaseOutcome.Failure(beforeResponse: true));
                    var (status, message) = UpstreamErrors.Describe(first.ErrorCode, first.ErrorMessage);
                    await OpenAIError.WriteAsync(context, status, OpenAIError.Server, first.ErrorCode ?? AgentErrorCodes.UpstreamError, message);
                    return;
                }

                var outcome = await ResponseCopier.CopyAsync(context, first, call, _options, cancellationToken);
                if (outcome == CopyOutcome.CallerGone)
                {
                    call.Cancel();
                    LogCallerGone(logger, request.Model, lease.AgentId);
                }
                else if (outcome == CopyOutcome.UpstreamFailed)
                {
                    LogFailedMidway(logger, request.Model, lease.AgentId);
                }

                Release(model, lease.RequestId, outcome == CopyOutcome.Completed
                    ? LeaseOutcome.Success(timeToHead)
                    : LeaseOutcome.Failure(beforeResponse: false));
                return;
            }
        }

        var (finalStatus, finalMessage) = UpstreamErrors.Describe(lastFailure?.Code, lastFailure?.Detail);
        await OpenAIError.WriteAsync(context, finalStatus, OpenAIError.Server, lastFailure?.Code ?? AgentErrorCodes.UpstreamUnreachable,
            $"{finalMessage} ({_options.MaxAttempts} instances tried)");
    }

    private static bool IsRetryable(ResponseEvent first) => first.Kind switch
    {
        ResponseEventKind.End => AgentErrorCodes.IsRetryable(first.ErrorCode)
            || first.ErrorCode is AgentErrorCodes.AgentDisconnected or AgentErrorCodes.GatewayNodeLost,
        ResponseEventKind.Head => first.StatusCode is StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable,
        _ => false,
    };

    private static Task WriteUnavailableAsync(HttpContext context, string model, AcquireResult acquired, (string Code, string? Detail)? lastFailure)
    {
        if (lastFailure is { } failure && acquired.Status is AcquireStatus.UnknownModel or AcquireStatus.NoLiveInstance)
        {
            // Every instance was tried and failed before answering.
            var (status, message) = UpstreamErrors.Describe(failure.Code, failure.Detail);
            return OpenAIError.WriteAsync(context, status, OpenAIError.Server, failure.Code, message);
        }

        return acquired.Status switch
        {
            AcquireStatus.UnknownModel => OpenAIError.ModelNotFound(context, model),
            AcquireStatus.NoLiveInstance => OpenAIError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, OpenAIError.Server, "no_live_instance",
                $"No live instance serves '{OpenAIError.Sanitize(model)}' right now.", acquired.RetryAfterSeconds),
            AcquireStatus.QueueFull => OpenAIError.WriteAsync(context, StatusCodes.Status429TooManyRequests, OpenAIError.RateLimit, "queue_full",
                $"Every instance of '{OpenAIError.Sanitize(model)}' is busy and its queue is full; retry later.", acquired.RetryAfterSeconds),
            AcquireStatus.QueueTimeout => OpenAIError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, OpenAIError.Server, "queue_timeout",
                $"Every instance of '{OpenAIError.Sanitize(model)}' stayed busy for the whole queue timeout; retry later.", acquired.RetryAfterSeconds),
            _ => Task.CompletedTask,
        };
    }

    private void Release(IModelGrain model, long requestId, LeaseOutcome outcome)
    {
        var release = model.Release(requestId, outcome);
        if (!release.IsCompletedSuccessfully)
        {
            _ = release.ContinueWith(
                t => LogReleaseFailed(logger, t.Exception!, requestId),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private static long NewRequestId() => Random.Shared.NextInt64(1, long.MaxValue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: instance {AgentId} failed before answering ({Reason}), attempt {Attempt}; trying another")]
    private static partial void LogRetrying(ILogger logger, string model, string agentId, string reason, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model}: caller went away; cancelled the request on instance {AgentId}")]
    private static partial void LogCallerGone(ILogger logger, string model, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: instance {AgentId} failed after it started answering")]
    private static partial void LogFailedMidway(ILogger logger, string model, string agentId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Model}: the model registry is unreachable")]
    private static partial void LogRegistryUnavailable(ILogger logger, Exception exception, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release lease {RequestId}; the registry reconciles it from the next refresh")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, long requestId);
}
