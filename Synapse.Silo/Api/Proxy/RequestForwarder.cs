using System.Diagnostics;
using Microsoft.Extensions.Options;
using Synapse.Grains.Models;
using Synapse.Protocol.Messages;
using Synapse.Silo.Cluster;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Hosting;
using Synapse.Silo.Observability;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// The request path: lease an instance from the model's grain, start the request on it, and retry on another
/// instance when it fails before answering (socket gone, upstream refused, 502/503). Once the first byte went to
/// the caller there is no retry; failures become error events instead. Every lease is released exactly once.
/// </summary>
internal sealed partial class RequestForwarder(
    GrainReferences grains,
    UpstreamConnector connector,
    RemoteResponseTable remoteResponses,
    ILocalSiloDetails silo,
    IOptions<GatewayOptions> options,
    ILogger<RequestForwarder> logger)
{
    private static readonly TimeSpan RegistryRetryWindow = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a request that has not started keeps trying other paths (sockets gone, a silo dying, relays stalled
    /// while the cluster settles) before it fails. Waiting a few seconds beats failing.
    /// </summary>
    private static readonly TimeSpan PathRetryWindow = TimeSpan.FromSeconds(20);

    private const int MaxPathRetries = 30;

    private readonly GatewayOptions _options = options.Value;

    public async Task ForwardAsync(HttpContext context, ForwardedRequest request, RequestTelemetry telemetry)
    {
        var cancellationToken = context.RequestAborted;
        var model = grains.Model(request.Model);
        var excluded = new List<string>();
        var excludedConnections = new List<string>();
        (string Code, string? Detail)? lastFailure = null;

        // Only failures of instances themselves explain a model without instances (502); broken paths do not (503).
        (string Code, string? Detail)? lastInstanceFailure = null;

        // Two budgets: instances that failed (MaxAttempts in all), and paths to them that broke (a socket or silo
        // gone, a relay stalled) — the instance may well serve the request over another path.
        var instanceFailures = 0;
        var pathFailures = 0;
        var pathDeadline = Environment.TickCount64 + (long)PathRetryWindow.TotalMilliseconds;
        bool CanRetryPath() => pathFailures < MaxPathRetries && Environment.TickCount64 < pathDeadline;
        while (true)
        {
            var acquired = await AcquireAsync(model, request.Model, excluded, excludedConnections, cancellationToken);
            if (acquired is null)
            {
                if (!cancellationToken.IsCancellationRequested)
                {
                    await OpenAIError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, OpenAIError.Server, "registry_unavailable",
                        "The gateway could not reach the model registry; try again.", retryAfterSeconds: 1);
                }

                return;
            }

            if (acquired.Status != AcquireStatus.Granted)
            {
                if (acquired.Status == AcquireStatus.UnknownModel && lastInstanceFailure is null)
                {
                    telemetry.ModelUnknown();
                }

                await WriteUnavailableAsync(context, request.Model, acquired, lastInstanceFailure);
                return;
            }

            var lease = acquired.Lease!;
            telemetry.Queued(acquired.Queued);
            telemetry.Serving();
            var started = Stopwatch.GetTimestamp();
            UpstreamCall? call;
            try
            {
                (call, var result) = await connector.StartAsync(lease, request, cancellationToken);
                if (call is null)
                {
                    // The socket could not take it; the same agent may still serve it over another socket.
                    Release(model, lease.RequestId, LeaseOutcome.Unreachable());
                    excludedConnections.Add(lease.ConnectionId);
                    lastFailure = (AgentErrorCodes.UpstreamUnreachable, $"instance {lease.AgentName ?? lease.AgentId} is not reachable ({result})");
                    pathFailures++;
                    if (!CanRetryPath())
                    {
                        break;
                    }

                    telemetry.Retried("path");
                    LogRetrying(logger, request.Model, lease.AgentId, result.ToString(), instanceFailures + pathFailures);
                    continue;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Release(model, lease.RequestId, LeaseOutcome.Unreachable());
                return;
            }

            telemetry.CrossSilo = !call.IsLocal;
            using (call)
            using (var reader = new TimedResponseReader(call.Channel, cancellationToken))
            {
                ResponseEvent first;
                try
                {
                    var (timedOut, item) = await reader.ReadAsync(_options.IdleTimeout);
                    if (timedOut)
                    {
                        call.Cancel();
                        item = ResponseEvent.ForEnd(AgentErrorCodes.IdleTimeout, null);
                    }

                    first = item;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    call.Cancel();
                    Release(model, lease.RequestId, LeaseOutcome.Failure(beforeResponse: false));
                    LogCallerGone(logger, request.Model, lease.AgentId);
                    return;
                }

                // An agent that says it is full is still winding down a request the gateway already released (the
                // caller left, the idle timeout fired): it frees the slot within moments, so wait briefly and ask
                // again rather than blame the instance.
                var busy = first.Kind == ResponseEventKind.End && first.ErrorCode == AgentErrorCodes.Overloaded;
                var pathBroke = busy || (first.Kind == ResponseEventKind.End && AgentErrorCodes.IsPathFailure(first.ErrorCode));
                var retry = pathBroke
                    ? CanRetryPath()
                    : IsRetryableInstanceFailure(first) && instanceFailures + 1 < _options.MaxAttempts;
                if (retry)
                {
                    if (first.Kind == ResponseEventKind.Head)
                    {
                        call.Cancel();
                    }

                    if (pathBroke)
                    {
                        pathFailures++;
                        ExcludePath(first.ErrorCode, lease, excludedConnections);
                        Release(model, lease.RequestId, LeaseOutcome.Unreachable());
                        if (busy && !await BackOffAsync(pathFailures, cancellationToken))
                        {
                            return;
                        }
                    }
                    else
                    {
                        instanceFailures++;
                        excluded.Add(lease.AgentId);
                        Release(model, lease.RequestId, LeaseOutcome.Failure(beforeResponse: true));
                    }

                    lastFailure = first.Kind == ResponseEventKind.End
                        ? (first.ErrorCode!, first.ErrorMessage)
                        : (AgentErrorCodes.UpstreamError, $"upstream answered {first.StatusCode}");
                    if (!pathBroke || first.ErrorCode == AgentErrorCodes.AgentDisconnected)
                    {
                        lastInstanceFailure = lastFailure;
                    }
                    telemetry.Retried(pathBroke ? "path" : "instance");
                    LogRetrying(logger, request.Model, lease.AgentId, lastFailure.Value.Code, instanceFailures + pathFailures);
                    continue;
                }

                var timeToHead = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (first.Kind == ResponseEventKind.End)
                {
                    // Failed before answering, with no attempts left or not worth retrying.
                    Release(model, lease.RequestId, pathBroke ? LeaseOutcome.Unreachable() : LeaseOutcome.Failure(beforeResponse: true));
                    var (status, message) = UpstreamErrors.Describe(first.ErrorCode, first.ErrorMessage);
                    await OpenAIError.WriteAsync(context, status, OpenAIError.Server, first.ErrorCode ?? AgentErrorCodes.UpstreamError, message);
                    return;
                }

                var (outcome, errorCode) = await ResponseCopier.CopyAsync(context, first, call, reader, telemetry, _options);
                if (outcome == CopyOutcome.PathFailedBeforeCommit && CanRetryPath())
                {
                    // The caller has seen nothing yet: try again rather than fail.
                    pathFailures++;
                    ExcludePath(errorCode, lease, excludedConnections);
                    Release(model, lease.RequestId, LeaseOutcome.Unreachable());
                    ResetResponse(context.Response);
                    telemetry.Retried("path");
                    lastFailure = (errorCode!, null);
                    if (errorCode == AgentErrorCodes.AgentDisconnected)
                    {
                        lastInstanceFailure = lastFailure;
                    }

                    LogRetrying(logger, request.Model, lease.AgentId, errorCode!, instanceFailures + pathFailures);
                    continue;
                }

                if (outcome == CopyOutcome.PathFailedBeforeCommit)
                {
                    var (status, message) = UpstreamErrors.Describe(errorCode, null);
                    ResetResponse(context.Response);
                    await OpenAIError.WriteAsync(context, status, OpenAIError.Server, errorCode!, message);
                    outcome = CopyOutcome.UpstreamFailed;
                }

                if (outcome == CopyOutcome.CallerGone)
                {
                    call.Cancel();
                    LogCallerGone(logger, request.Model, lease.AgentId);
                }
                else if (outcome == CopyOutcome.UpstreamFailed)
                {
                    telemetry.FailedWith = errorCode;
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
            $"{finalMessage} ({instanceFailures + pathFailures} attempts)");
    }

    /// <summary>
    /// Leases an instance, riding out a registry that is briefly unreachable (its silo just died and membership has
    /// not declared it yet): a request that has not started should succeed elsewhere, not fail.
    /// </summary>
    private async Task<AcquireResult?> AcquireAsync(IModelGrain model, string name, List<string> excluded, List<string> excludedConnections, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)RegistryRetryWindow.TotalMilliseconds;
        var delay = 100;
        while (true)
        {
            try
            {
                return await model.Acquire(
                    new AcquireRequest
                    {
                        RequestId = remoteResponses.NewRequestId(),
                        CallerSilo = silo.SiloAddress,
                        ExcludedAgents = [.. excluded],
                        ExcludedConnections = [.. excludedConnections],
                        ReconnectGrace = excluded.Count + excludedConnections.Count > 0 ? _options.FailoverWait : null,
                    },
                    cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception ex) when (Environment.TickCount64 < deadline)
            {
                LogRegistryRetry(logger, ex, name);
                try
                {
                    await Task.Delay(delay, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }

                delay = Math.Min(delay * 2, 250);
            }
            catch (Exception ex)
            {
                LogRegistryUnavailable(logger, ex, name);
                return null;
            }
        }
    }

    /// <summary>
    /// A socket that died, or whose silo did, is not offered again; a relay that stalled says nothing about the
    /// socket, so the same one may serve the retry (a new request id takes another inbox stream).
    /// </summary>
    private static void ExcludePath(string? code, Lease lease, List<string> excludedConnections)
    {
        if (code is AgentErrorCodes.AgentDisconnected or AgentErrorCodes.GatewayNodeLost)
        {
            excludedConnections.Add(lease.ConnectionId);
        }
    }

    /// <summary>Waits a little longer on each attempt; false when the caller left meanwhile.</summary>
    private static async Task<bool> BackOffAsync(int attempt, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(25 * attempt, 500)), cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Undoes the head a response copy set but never sent, before a retry writes its own.</summary>
    private static void ResetResponse(HttpResponse response)
    {
        if (!response.HasStarted)
        {
            response.Headers.Clear();
            response.StatusCode = StatusCodes.Status200OK;
        }
    }

    private static bool IsRetryableInstanceFailure(ResponseEvent first) => first.Kind switch
    {
        ResponseEventKind.End => AgentErrorCodes.IsRetryable(first.ErrorCode),
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: instance {AgentId} failed before answering ({Reason}), attempt {Attempt}; trying another")]
    private static partial void LogRetrying(ILogger logger, string model, string agentId, string reason, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model}: caller went away; cancelled the request on instance {AgentId}")]
    private static partial void LogCallerGone(ILogger logger, string model, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: instance {AgentId} failed after it started answering")]
    private static partial void LogFailedMidway(ILogger logger, string model, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: the model registry did not answer; retrying")]
    private static partial void LogRegistryRetry(ILogger logger, Exception exception, string model);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Model}: the model registry is unreachable")]
    private static partial void LogRegistryUnavailable(ILogger logger, Exception exception, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release lease {RequestId}; the registry reconciles it from the next refresh")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, long requestId);
}
