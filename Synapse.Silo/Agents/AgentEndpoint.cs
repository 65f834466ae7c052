using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Cluster;
using Synapse.Silo.Hosting;
using Synapse.Silo.Observability;
using Synapse.Silo.Tenancy;

namespace Synapse.Silo.Agents;

/// <summary>
/// <c>/ws</c>: where agents dial in. The key is checked before the upgrade (a wrong key never gets a socket);
/// browsers are refused unless their origin is allowed.
/// </summary>
internal static partial class AgentEndpoint
{

    public static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AgentEndpoint));
        var remote = context.RemoteEndpoint();
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.Headers.Upgrade = "websocket";
            await OpenAIError.WriteAsync(context, StatusCodes.Status426UpgradeRequired, OpenAIError.InvalidRequest, "websocket_required",
                "This endpoint is for Synapse agents and accepts only WebSocket upgrades.");
            return;
        }

        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !options.AllowedWebSocketOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            if (services.GetRequiredService<RefusalLogLimiter>().ShouldLog("origin_not_allowed"))
            {
                LogOriginRefused(logger, remote, OpenAIError.Sanitize(origin));
            }

            await OpenAIError.WriteAsync(context, StatusCodes.Status403Forbidden, OpenAIError.InvalidRequest, "origin_not_allowed",
                "WebSocket connections from browsers are not allowed from this origin.");
            return;
        }

        var credential = services.GetRequiredService<TenancyConfigSource>().Current.AuthenticateAgent(context.Request);
        if (credential is null)
        {
            if (services.GetRequiredService<RefusalLogLimiter>().ShouldLog("invalid_ws_key"))
            {
                LogKeyRefused(logger, remote);
            }

            await OpenAIError.WriteAsync(context, StatusCodes.Status401Unauthorized, OpenAIError.Authentication, "invalid_ws_key",
                "Missing or invalid WebSocket key. Start the agent with --ws-auth-key matching the gateway's.");
            return;
        }

        var state = services.GetRequiredService<GatewayState>();
        if (!state.IsReady)
        {
            await OpenAIError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, OpenAIError.Server, "not_ready",
                state.IsDraining ? "This gateway node is shutting down; connect to another." : "This gateway node is starting.", retryAfterSeconds: 1);
            return;
        }

        // A socket lives for hours: the request-body limits and rate checks of HTTP calls do not apply.
        context.Features.Get<IHttpMinRequestBodyDataRateFeature>()?.MinDataRate = null;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = TimeSpan.Zero,
            DangerousEnableCompression = false,
        });
        // Where an agent of the wrong version gets the right one, when this gateway serves binaries.
        var address = Install.PublicAddress.From(context.Request, options.TrustForwardedHeaders);
        var downloadUrl = address is not null && services.GetRequiredService<Install.ClientBinaries>().Any ? address.HttpUrl("/getclient") : null;
        using var session = new AgentSession(socket, services.GetRequiredService<AgentSessionServices>(), credential, remote, downloadUrl);
        await session.RunAsync(context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an agent connection from {Remote}: wrong or missing WebSocket key")]
    private static partial void LogKeyRefused(ILogger logger, string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a WebSocket from {Remote} with browser origin {Origin}")]
    private static partial void LogOriginRefused(ILogger logger, string remote, string origin);
}
