using Microsoft.Extensions.Options;
using Synapse.Protocol;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Hosting;
using Synapse.Silo.Observability;

namespace Synapse.Silo.Install;

/// <summary>
/// One-line agent install: <c>GET /run</c> (the script) and <c>GET /getclient</c> (the binary for a platform).
/// </summary>
internal static partial class InstallEndpoints
{
    public static async Task RunAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var address = PublicAddress.From(context.Request, options.TrustForwardedHeaders);
        if (address is null)
        {
            if (services.GetRequiredService<RefusalLogLimiter>().ShouldLog("invalid_host"))
            {
                LogBadHost(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(InstallEndpoints)), OpenAIError.Sanitize(context.Request.Headers.Host.ToString()));
            }

            await OpenAIError.WriteAsync(context, StatusCodes.Status400BadRequest, OpenAIError.InvalidRequest, "invalid_host",
                "The Host (or X-Forwarded-Host) header is not a valid host name.");
            return;
        }

        if (!services.GetRequiredService<ClientBinaries>().Any)
        {
            await OpenAIError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, OpenAIError.Server, "client_unavailable",
                "This gateway has no agent binary to install; start it with --client-binary pointing at one.");
            return;
        }

        context.Response.ContentType = "text/x-shellscript; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(InstallScript.For(address), context.RequestAborted);
    }

    public static async Task GetClientAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var os = query["os"].ToString() is { Length: > 0 } requested ? requested.ToLowerInvariant() : "linux";
        var arch = ClientBinaries.NormalizeArch(query["arch"].ToString());
        var binary = context.RequestServices.GetRequiredService<ClientBinaries>().Find(os, arch);
        if (binary is null)
        {
            await OpenAIError.WriteAsync(context, StatusCodes.Status404NotFound, OpenAIError.InvalidRequest, "client_not_found",
                $"This gateway has no agent binary for {OpenAIError.Sanitize(os)}-{OpenAIError.Sanitize(arch)}.");
            return;
        }

        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = binary.Length;
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{ClientBinaries.FileName}\"";
        context.Response.Headers["X-Synapse-Version"] = ProtocolVersion.Product;
        context.Response.Headers.CacheControl = "no-cache";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        await context.Response.SendFileAsync(binary.FullName, context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused /run for an invalid Host header '{Host}'")]
    private static partial void LogBadHost(ILogger logger, string host);
}
