using System.Buffers;
using Synapse.Silo.Api.Proxy;
using Synapse.Silo.Observability;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Forwarding;

/// <summary>
/// Where a request goes when the leaser refuses its model (no instance alive, the model unknown, its queue full or
/// timed out): the next model of its group's fallbacks that the caller may use (<see cref="ForwardedRequest.Fallbacks"/>),
/// with the body naming that model. A refusal comes before any attempt writes to the caller, so a fallback is only
/// ever chosen before the first byte went out; a failure once answering never gets here. The fallback whose instance
/// takes the request is told to the caller (<c>x-synapse-fallback</c>), the metrics and the log; one that refuses too
/// is forgotten again, so when every fallback refuses the caller gets the model's own refusal, unmarked.
/// </summary>
internal sealed partial class FallbackRoute(ForwardedRequest request, Failure refusal, ILogger logger) : IDisposable
{
    /// <summary>The response header naming the model that served, when it was a fallback.</summary>
    public const string Header = "x-synapse-fallback";

    private readonly List<byte[]> _bodies = [];
    private int _next;

    /// <summary>Whether a refusal of the leaser sends the request on to its fallbacks.</summary>
    public static bool Follows(Failure refusal) =>
        refusal.Error is ForwarderError.ModelNotFound or ForwarderError.NoLiveInstance or ForwarderError.QueueFull or ForwarderError.QueueTimeout;

    /// <summary>
    /// The request as the next fallback gets it: the same request, its body's <c>model</c> naming the fallback; null
    /// when none is left, or when the body names its model elsewhere than a JSON <c>model</c> (a form upload): sent
    /// unchanged, it would ask the fallback's server for a model it does not serve.
    /// </summary>
    public ForwardedRequest? Next()
    {
        if (_next >= request.Fallbacks.Count)
        {
            return null;
        }

        var model = request.Fallbacks[_next++];
        if (ModelNameRewriter.Rewrite(request.Body.Span, model, out var length) is not { } body)
        {
            return null;
        }

        _bodies.Add(body);
        return request with { Model = model, Body = body.AsMemory(0, length), Fallbacks = [] };
    }

    /// <summary>An instance of <paramref name="fallback"/> was leased: the caller, the metrics and the log learn it serves.</summary>
    public void Serving(HttpContext context, ForwardedRequest fallback, RequestTelemetry telemetry)
    {
        context.Response.Headers[Header] = fallback.Model;
        telemetry.ServedByFallback(request.Model, fallback.Model, ForwarderErrors.CodeOf(refusal.Error));
        LogFallback(logger, request.Model, ForwarderErrors.CodeOf(refusal.Error), fallback.Model, request.Requested);
    }

    /// <summary>
    /// The fallback could not take the request after all (its leaser refused, maybe after failed attempts): nothing
    /// of it went out, so the request is again the model's own.
    /// </summary>
    public void Refused(HttpContext context, RequestTelemetry telemetry)
    {
        context.Response.Headers.Remove(Header);
        telemetry.FallbackRefused();
    }

    public void Dispose()
    {
        foreach (var body in _bodies)
        {
            ArrayPool<byte>.Shared.Return(body);
        }

        _bodies.Clear();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} could not take a call ({Reason}); its fallback {Fallback} serves it (asked for as {Requested})")]
    private static partial void LogFallback(ILogger logger, string model, string reason, string fallback, string requested);
}
