using System.Diagnostics;
using Microsoft.Extensions.Options;
using Synapse.Silo.Api.Auth;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Cluster;
using Synapse.Silo.Forwarding;
using Synapse.Silo.Hosting;
using Synapse.Silo.Limits;
using Synapse.Silo.Observability;
using Synapse.Silo.Tenancy;
using Synapse.Silo.Transport;
using Synapse.Silo.Usage;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// <c>POST /v1/*</c>: any OpenAI-style call whose body names a <c>model</c> (chat, completions, embeddings,
/// responses, rerank, audio...) is forwarded, path and query intact, to an instance serving that model.
/// </summary>
internal static partial class ProxyEndpoint
{
    /// <summary>Paths that exist but only for POST, so other methods get 405 rather than 404.</summary>
    private static readonly string[] PostOnly =
    [
        "chat/completions", "completions", "embeddings", "responses", "rerank", "score", "moderations",
        "audio/transcriptions", "audio/translations", "audio/speech", "images/generations", "tokenize", "detokenize", "classify", "pooling",
    ];

    public static async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.RouteValues["path"] as string ?? string.Empty;
        if (path == "models" || path.StartsWith("models/", StringComparison.Ordinal))
        {
            await OpenAIError.MethodNotAllowed(context, "GET");
            return;
        }

        if (IsAmbiguousPath(context.Request.Path.Value))
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "invalid_path",
                "The path contains an encoded slash, an encoded dot or a backslash; send it with plain slashes.");
            return;
        }

        var services = context.RequestServices;
        var state = services.GetRequiredService<GatewayState>();
        if (state.IsDraining)
        {
            await OpenAIError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, OpenAIError.Server, "shutting_down",
                "This gateway node is shutting down; retry and another node will answer.", retryAfterSeconds: 1);
            return;
        }

        state.RequestStarted();
        try
        {
            using var body = await ReadBodyAsync(context, services.GetRequiredService<IOptions<GatewayOptions>>().Value.MaxRequestBodyBytes);
            if (body is null)
            {
                return;
            }

            var model = await ModelNameReader.ReadAsync(body.Memory, context.Request.ContentType);
            if (!model.IsFound)
            {
                await RefuseAsync(context, model.Status, model.Code, model.Message);
                return;
            }

            // A model outside the caller's group or allow-list is answered exactly as one that exists nowhere.
            if (context.Caller().Route(model.Model!) is not { } route)
            {
                await OpenAIError.ModelNotFound(context, model.Model!);
                return;
            }

            var budget = await services.GetRequiredService<BudgetGate>().CheckAsync(context.Caller(), context.RequestAborted);
            if (!budget.Allowed)
            {
                await RefuseOverBudgetAsync(context, route.Model, budget);
                return;
            }

            var admission = await services.GetRequiredService<LimitGate>().AdmitAsync(context.Caller(), context.RequestAborted);
            if (admission.Refusal is { } refusal)
            {
                await RefuseRateLimitedAsync(context, route.Model, admission, refusal);
                return;
            }

            if (admission.Shown is not null)
            {
                context.Response.OnStarting(static state =>
                {
                    var (response, limits) = ((HttpResponse, LimitAdmission))state;
                    limits.ApplyHeaders(response.Headers);
                    return Task.CompletedTask;
                }, (context.Response, admission));
            }

            await ForwardAsync(context, route, body, admission);
        }
        finally
        {
            state.RequestEnded();
        }
    }

    /// <summary>The body, or null once the refusal (413, 400, 408) was answered or the caller left.</summary>
    private static async Task<PooledBody?> ReadBodyAsync(HttpContext context, long limit)
    {
        var read = await RequestBodyReader.ReadAsync(context, limit);
        switch (read.Status)
        {
            case BodyReadStatus.TooLarge:
                OversizedBodyDrain.Allow(context, limit);
                await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, "request_too_large", $"The request body exceeds the limit of {limit} bytes.");
                return null;
            case BodyReadStatus.Malformed:
                await RefuseAsync(context, StatusCodes.Status400BadRequest, "invalid_body", "The request body could not be read.");
                return null;
            case BodyReadStatus.TooSlow:
                await RefuseAsync(context, StatusCodes.Status408RequestTimeout, "request_timeout", "The request body arrived too slowly; send it at once.");
                return null;
            case BodyReadStatus.CallerGone:
                return null;
            default:
                return read.Body;
        }
    }

    private static async Task ForwardAsync(HttpContext context, ModelRoute route, PooledBody body, LimitAdmission admission)
    {
        var services = context.RequestServices;
        var caller = context.Caller();
        var model = route.Model;
        var telemetry = new RequestTelemetry(services.GetRequiredService<GatewayMetrics>(), caller.Group!.Name, caller.KeyName, model, route.Requested, context.Request.Path.Value ?? string.Empty);
        using var activity = GatewayActivity.Source.StartActivity($"{telemetry.Operation} {telemetry.Model}");
        activity?.SetTag("gen_ai.operation.name", telemetry.Operation);
        activity?.SetTag("gen_ai.request.model", telemetry.Model);
        using var upstreamBody = UpstreamBody.Prepare(context, body, route);
        var request = new ForwardedRequest(
            caller.Group.Name,
            model,
            context.Request.Method,
            context.Request.Path.ToUriComponent() + context.Request.QueryString.ToUriComponent(),
            HeaderPolicy.ForUpstream(context.Request.Headers, Activity.Current),
            upstreamBody.Body)
        {
            UsageMode = upstreamBody.UsageMode,
            AffinityKey = AffinityKeyReader.Read(context.Request.Path.Value ?? string.Empty, context.Request.Headers, body.Span),
            Requested = route.Requested,
            Fallbacks = route.Fallbacks,
        };
        try
        {
            await services.GetRequiredService<RequestForwarder>().ForwardAsync(context, request, telemetry);
        }
        finally
        {
            telemetry.Complete(context.Response.StatusCode);
            services.GetRequiredService<UsageLedger>().Record(caller, telemetry.Model, telemetry.InputTokens, telemetry.OutputTokens);
            admission.Ended(Math.Max(0, telemetry.InputTokens) + Math.Max(0, telemetry.OutputTokens));
        }
    }

    /// <summary>Counts a refusal in the metrics and in the caller's usage.</summary>
    private static void Refused(HttpContext context, string model, string reason)
    {
        var caller = context.Caller();
        context.RequestServices.GetRequiredService<GatewayMetrics>().Refused(caller, reason);
        context.RequestServices.GetRequiredService<UsageLedger>().Refused(caller, model, reason);
        if (context.RequestServices.GetRequiredService<RefusalLogLimiter>().ShouldLog(reason))
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProxyEndpoint));
            LogLimited(logger, caller.KeyName, OpenAIError.Sanitize(model), reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a call of key {KeyName} to {Model}: 429 {Reason}")]
    private static partial void LogLimited(ILogger logger, string keyName, string model, string reason);

    /// <summary>429 in OpenAI's shape for a limit: type <c>requests</c> or <c>tokens</c>, <c>Retry-After</c> and the rate-limit headers.</summary>
    private static Task RefuseRateLimitedAsync(HttpContext context, string model, LimitAdmission admission, LimitRefusal refusal)
    {
        Refused(context, model, "rate_limited");
        admission.ApplyHeaders(context.Response.Headers);
        var seconds = (int)Math.Clamp(Math.Ceiling(refusal.RetryAfter.TotalSeconds), 1, 3600);
        context.Response.Headers["retry-after-ms"] = ((long)Math.Ceiling(refusal.RetryAfter.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return OpenAIError.WriteAsync(context, StatusCodes.Status429TooManyRequests, refusal.Kind, "rate_limit_exceeded",
            $"Rate limit reached for {refusal.Owner}: {refusal.Limit}. Try again in {LimitHeaders.Format(refusal.RetryAfter)}.",
            seconds);
    }

    /// <summary>429 <c>insufficient_quota</c> until the budget's period renews (OpenAI's answer for a spent quota).</summary>
    private static Task RefuseOverBudgetAsync(HttpContext context, string model, BudgetVerdict verdict)
    {
        Refused(context, model, "quota_exceeded");
        var renews = verdict.RenewsAt;
        var seconds = (int)Math.Clamp(Math.Ceiling((renews - context.RequestServices.GetRequiredKeyedService<TimeProvider>(Synapse.Grains.Usage.UsageOptions.ClockKey).GetUtcNow()).TotalSeconds), 1, int.MaxValue);
        var budget = verdict.Budget!;
        return OpenAIError.WriteAsync(context, StatusCodes.Status429TooManyRequests, OpenAIError.InsufficientQuota, OpenAIError.InsufficientQuota,
            $"The token budget of {verdict.Owner} ({budget.Tokens} tokens per {budget.UsagePeriod.ToString().ToLowerInvariant()}) is spent; it renews at {renews:yyyy-MM-ddTHH:mm:ssZ}.",
            seconds);
    }

    /// <summary>
    /// A request the gateway refuses itself (its body, its model, its path): answered in OpenAI's shape and logged with
    /// the code only, so an operator sees the abuse but never the body, a prompt or a key.
    /// </summary>
    private static Task RefuseAsync(HttpContext context, int status, string code, string message)
    {
        if (context.RequestServices.GetRequiredService<RefusalLogLimiter>().ShouldLog(code))
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProxyEndpoint));
            LogRefused(logger, context.Request.Method, OpenAIError.Sanitize(context.Request.Path.Value),
                context.RemoteEndpoint(), status, code);
        }

        return OpenAIError.WriteAsync(context, status, OpenAIError.InvalidRequest, code, message);
    }

    /// <summary>
    /// Kestrel decodes the path and resolves its dot segments, but leaves <c>%2F</c> encoded and decodes <c>%5C</c> to
    /// a backslash; a double-encoded dot survives as <c>%2E</c>. An LLM server (or a proxy before it) that decodes
    /// again could read any of them as a separator and resolve <c>..</c> out of <c>/v1</c>. No OpenAI path needs them.
    /// </summary>
    private static bool IsAmbiguousPath(string? path) =>
        path is not null
        && (path.Contains('\\', StringComparison.Ordinal)
            || path.Contains("%2F", StringComparison.OrdinalIgnoreCase)
            || path.Contains("%5C", StringComparison.OrdinalIgnoreCase)
            || path.Contains("%2E", StringComparison.OrdinalIgnoreCase));

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused {Method} {Path} from {Remote}: {Status} {Code}")]
    private static partial void LogRefused(ILogger logger, string method, string path, string remote, int status, string code);

    /// <summary>Any other method on <c>/v1/*</c>.</summary>
    public static Task OtherMethodAsync(HttpContext context)
    {
        var path = context.Request.RouteValues["path"] as string ?? string.Empty;
        if (path == "models" || path.StartsWith("models/", StringComparison.Ordinal))
        {
            return OpenAIError.MethodNotAllowed(context, "GET");
        }

        return Array.IndexOf(PostOnly, path.TrimEnd('/')) >= 0
            ? OpenAIError.MethodNotAllowed(context, "POST")
            : OpenAIError.NotFound(context);
    }
}
