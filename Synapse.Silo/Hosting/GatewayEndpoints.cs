using Synapse.Silo.Agents;
using Synapse.Silo.Api.Auth;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Api.Models;
using Synapse.Silo.Api.Proxy;
using Synapse.Silo.Health;
using Synapse.Silo.Install;
using Synapse.Silo.Observability;
using Synapse.Silo.Status;

namespace Synapse.Silo.Hosting;

/// <summary>The gateway's routes and the middleware in front of them.</summary>
internal static partial class GatewayEndpoints
{
    private static readonly string[] OtherMethods = ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
    private static readonly string[] VersionOtherMethods = ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

    public static void Map(WebApplication app)
    {
        app.Use(ErrorBoundaryAsync);
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Use(ApiKeyGateAsync);

        app.Map("/healthz", HealthEndpoints.LiveAsync);
        app.Map("/readyz", HealthEndpoints.ReadyAsync);
        app.MapMethods("/version", ["GET", "HEAD"], VersionEndpoint.GetAsync);
        app.MapMethods("/version", VersionOtherMethods, static context => OpenAIError.MethodNotAllowed(context, "GET, HEAD"));
        app.Map("/ws", AgentEndpoint.HandleAsync);
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/", StatusEndpoint.PageAsync);
        app.MapGet("/status", StatusEndpoint.StatusAsync);
        app.MapGet("/status/history", StatusEndpoint.HistoryAsync);
        app.MapGet("/usage", Usage.UsageEndpoint.GetAsync);
        foreach (var asset in StatusEndpoint.AssetPaths)
        {
            app.MapMethods(asset, ["GET", "HEAD"], StatusEndpoint.AssetAsync);
        }

        app.MapGet("/run", InstallEndpoints.RunAsync);
        app.MapMethods("/getclient", ["GET", "HEAD"], InstallEndpoints.GetClientAsync);

        app.MapGet("/v1/models", ModelsEndpoint.ListAsync);
        app.MapGet("/v1/models/{**id}", ModelsEndpoint.GetAsync);
        app.MapPost("/v1/{**path}", ProxyEndpoint.HandleAsync);
        app.MapMethods("/v1/{**path}", OtherMethods, ProxyEndpoint.OtherMethodAsync);
        app.MapFallback(OpenAIError.NotFound);
    }

    /// <summary>Anything unhandled becomes a 500 in OpenAI's shape and a log line; never a stack trace to the caller.</summary>
    private static async Task ErrorBoundaryAsync(HttpContext context, RequestDelegate next)
    {
        // Model ids come from agents and are echoed in JSON answers: no browser may sniff them into HTML.
        context.Response.Headers.XContentTypeOptions = "nosniff";
        try
        {
            await next(context);
        }
        catch (Exception ex) when (ex is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away.
        }
        catch (BadHttpRequestException ex)
        {
            await OpenAIError.WriteAsync(context, ex.StatusCode, OpenAIError.InvalidRequest, "bad_request", "The request is malformed.");
        }
        catch (Exception ex)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GatewayEndpoints));
            LogUnhandled(logger, ex, context.Request.Method, OpenAIError.Sanitize(context.Request.Path.Value));
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }

            await OpenAIError.WriteAsync(context, StatusCodes.Status500InternalServerError, OpenAIError.Server, "internal_error",
                "The gateway failed to handle this request.");
        }
    }

    private static Task ApiKeyGateAsync(HttpContext context, RequestDelegate next)
    {
        // Routing matches paths case-insensitively, so the gate must too: /V1/chat/completions reaches the same endpoint.
        if (!context.Request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase))
        {
            return next(context);
        }

        var caller = ApiCallers.Authenticate(context);
        if (caller is null)
        {
            if (context.RequestServices.GetRequiredService<RefusalLogLimiter>().ShouldLog("invalid_api_key"))
            {
                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GatewayEndpoints));
                LogKeyRefused(logger, context.Request.Method, OpenAIError.Sanitize(context.Request.Path.Value), context.RemoteEndpoint());
            }

            return OpenAIError.Unauthorized(context);
        }

        if (!caller.CanCallModels)
        {
            return OpenAIError.WriteAsync(context, StatusCodes.Status403Forbidden, OpenAIError.Permission, "admin_key_not_for_models",
                "An admin key sees every group's status and usage but calls no model; use an API key of a group.");
        }

        return next(context);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path} from {Remote}: wrong or missing API key")]
    private static partial void LogKeyRefused(ILogger logger, string method, string path, string remote);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
