using System.Diagnostics;
using Microsoft.Extensions.Options;
using Synapse.Grains.Models;
using Synapse.Grains.Responses;
using Synapse.Silo.Hosting;
using Synapse.Silo.Observability;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Forwarding;

/// <summary>
/// One attempt of one request on one leased instance, as YARP's <c>HttpForwarder.SendAsync</c> is one attempt to one
/// destination. Choosing the instance and deciding whether to try again are the caller's (<see cref="RequestForwarder"/>).
/// The steps:
/// (1) start the request on the instance's socket, on this silo or through the socket's silo;
/// (2) wait for its first event, within the idle timeout;
/// (3) an end before any head, or a 502/503 head while another instance may still be tried, fails the attempt
///     before anything reached the caller;
/// (4) copy the response to the caller, as an event stream or held until complete.
/// The lease records how the attempt went, for balancing; the result says whether anything reached the caller.
/// </summary>
internal sealed class ForwardingAttempt(UpstreamConnector connector, IOptions<GatewayOptions> options)
{
    private readonly GatewayOptions _options = options.Value;

    public async Task<AttemptResult> RunAsync(HttpContext context, ForwardedRequest request, InstanceLease lease, bool mayTryAnotherInstance, RequestTelemetry telemetry)
    {
        var cancellationToken = context.RequestAborted;

        // :: Step 1: start.
        var started = Stopwatch.GetTimestamp();
        UpstreamCall? call;
        try
        {
            (call, var result) = await connector.StartAsync(lease.Lease, request, cancellationToken);
            if (call is null)
            {
                // The socket could not take it; the same agent may still serve it over another socket.
                return AttemptResult.Failed(new Failure(ForwarderError.ConnectionUnavailable, $"instance {lease.Lease.AgentName ?? lease.Lease.AgentId} is not reachable ({result})"), committed: false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return AttemptResult.CallerGone;
        }

        telemetry.CrossSilo = !call.IsLocal;
        using (call)
        using (var reader = new ResponseReader(call, _options.IdleTimeout, cancellationToken))
        {
            // :: Step 2: the first event.
            ResponseEvent first;
            try
            {
                first = (await reader.ReadAsync())!.Value;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                lease.Record(LeaseOutcome.Failure(beforeResponse: false));
                return AttemptResult.CallerGone;
            }

            // :: Step 3: failed before answering?
            if (first.Kind == ResponseEventKind.End)
            {
                var failure = ForwarderErrors.FromEnd(first) ?? new Failure(ForwarderError.UpstreamFailed, "the upstream ended without an answer");
                lease.Record(ForwarderErrors.RetryOf(failure.Error) == RetryKind.Path ? LeaseOutcome.Unreachable() : LeaseOutcome.Failure(beforeResponse: true));
                return AttemptResult.Failed(failure, committed: false);
            }

            if (first.StatusCode is StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable && mayTryAnotherInstance)
            {
                lease.Record(LeaseOutcome.Failure(beforeResponse: true));
                return AttemptResult.Failed(new Failure(ForwarderError.UpstreamUnavailable, $"upstream answered {first.StatusCode}"), committed: false);
            }

            // :: Step 4: copy.
            var timeToHead = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var copied = ResponseHeads.IsEventStream(first)
                ? await EventStreamCopier.CopyAsync(context, first, call, reader, request.UsageMode, telemetry, _options)
                : await BufferedResponseCopier.CopyAsync(context, first, call, reader, telemetry, _options);
            lease.Record(copied switch
            {
                { Outcome: AttemptOutcome.Completed } => LeaseOutcome.Success(timeToHead),
                { Outcome: AttemptOutcome.Failed, Committed: false } when ForwarderErrors.RetryOf(copied.Failure.Error) == RetryKind.Path => LeaseOutcome.Unreachable(),
                { Outcome: AttemptOutcome.Failed, Committed: false } => LeaseOutcome.Failure(beforeResponse: true),
                _ => LeaseOutcome.Failure(beforeResponse: false),
            });
            return copied;
        }
    }
}
