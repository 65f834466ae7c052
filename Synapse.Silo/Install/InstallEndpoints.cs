using System.Text;
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
    /// <summary>
    /// Always answers a bash script (200, <c>text/x-shellscript</c>): whatever keeps this gateway from installing an
    /// agent becomes a script that says so on stderr and exits non-zero, because <c>curl -fsSL … | bash</c> would
    /// swallow an error status and plain <c>curl … | bash</c> would run a JSON body as a command.
    /// </summary>
    public static async Task RunAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(InstallEndpoints));
        string script;
        try
        {
            script = ScriptFor(context, logger);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            LogScriptFailed(logger, ex);
            script = InstallScript.Failure("the gateway failed to prepare the install script; its log says why.");
        }

        // With a length, curl notices a script cut short instead of handing bash half of it.
        var body = Encoding.UTF8.GetBytes(script);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/x-shellscript; charset=utf-8";
        context.Response.ContentLength = body.Length;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static string ScriptFor(HttpContext context, ILogger logger)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var address = PublicAddress.From(context.Request, options.TrustForwardedHeaders);
        if (address is null)
        {
            if (services.GetRequiredService<RefusalLogLimiter>().ShouldLog("invalid_host"))
            {
                LogBadHost(logger, OpenAIError.Sanitize(context.Request.Headers.Host.ToString()));
            }

            // The host is never echoed: the script would then carry text the caller chose.
            return InstallScript.Failure(
                "the gateway cannot tell its own address from the Host header of this request; fetch /run by the host name or IP address (and port) of the gateway.");
        }

        var binaries = services.GetRequiredService<ClientBinaries>();
        var platforms = binaries.All.Select(b => b.Platform).ToList();
        if (platforms.Count == 0)
        {
            if (services.GetRequiredService<RefusalLogLimiter>().ShouldLog("client_unavailable"))
            {
                LogNoBinaries(logger, binaries.HowToProvide);
            }

            return InstallScript.Failure($"this gateway has no agent binary to install; on the gateway machine, {binaries.HowToProvide}.");
        }

        return InstallScript.For(address, platforms);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused /run for an invalid Host header '{Host}' (answered a script that says so)")]
    private static partial void LogBadHost(ILogger logger, string host);

    [LoggerMessage(Level = LogLevel.Warning, Message = "/run was asked for an agent but this gateway has no agent binary; to serve one, {Fix}")]
    private static partial void LogNoBinaries(ILogger logger, string fix);

    [LoggerMessage(Level = LogLevel.Error, Message = "/run could not prepare the install script")]
    private static partial void LogScriptFailed(ILogger logger, Exception exception);
}
