using Synapse.Silo.Cluster;

namespace Synapse.Silo.Health;

/// <summary>Kubernetes probes: <c>/healthz</c> while the process serves, <c>/readyz</c> while it takes traffic.</summary>
internal static class HealthEndpoints
{
    public static Task LiveAsync(HttpContext context) => WriteAsync(context, StatusCodes.Status200OK, "ok");

    public static Task ReadyAsync(HttpContext context)
    {
        var state = context.RequestServices.GetRequiredService<GatewayState>();
        if (state.IsReady)
        {
            return WriteAsync(context, StatusCodes.Status200OK, "ready");
        }

        return WriteAsync(context, StatusCodes.Status503ServiceUnavailable, state.IsDraining ? "draining" : "starting");
    }

    private static Task WriteAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync($$"""{"status":"{{text}}"}""");
    }
}
