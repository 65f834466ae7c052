using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Synapse.Silo.Install;

namespace Synapse.Silo.Hosting;

/// <summary>
/// The few lines a person reads when the gateway has started: version and address, cluster mode, auth mode, the agent
/// binaries <c>/run</c> serves (or how to get some), the status page; and one warning when the gateway is open to
/// the network.
/// </summary>
internal static partial class StartupBanner
{
    /// <summary>Writes the banner once the server listens (so the addresses are the bound ones).</summary>
    public static void WriteWhenStarted(WebApplication app) =>
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Synapse.Gateway");
            try
            {
                Write(app.Services, app.Urls.FirstOrDefault() ?? string.Empty, logger);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                // The banner describes the gateway; it must never be what stops it.
                LogBannerFailed(logger, ex);
            }
        });

    internal static void Write(IServiceProvider services, string url, ILogger logger)
    {
        var gateway = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var cluster = services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        var clusterId = services.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId;
        var silos = services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active);
        var binaries = services.GetRequiredService<ClientBinaries>();
        var api = ApiAuth(gateway);

        LogListening(logger, GatewayCommandLine.Version, url);
        LogCluster(logger, DescribeCluster(cluster, clusterId, silos));
        LogAuth(logger, api.Description, string.IsNullOrEmpty(gateway.WsAuthKey) ? "any agent may attach (no WebSocket key)" : "agents need the WebSocket key");
        var served = binaries.All;
        foreach (var binary in served)
        {
            LogClientBinary(logger, binary.Platform, binary.File.FullName);
        }

        var browsable = BrowsableUrl(url);
        if (served.Count == 0)
        {
            LogNoClientBinary(logger, binaries.HowToProvide);
        }
        else
        {
            var wsKey = string.IsNullOrEmpty(gateway.WsAuthKey) ? string.Empty : " --ws-auth-key '<the WebSocket key>'";
            LogAttach(logger, $"curl -fsSL {ReachableUrl(url)}/run | bash -s -- --upstream http://127.0.0.1:8000{wsKey}");
        }

        LogStatusPage(logger, browsable + "/");
        if (api.Open && !IsLoopback(gateway.Host))
        {
            LogOpenToTheNetwork(logger, gateway.Host);
        }
    }

    /// <summary>How API callers authenticate, one arm per mode; <c>Open</c> drives the warning.</summary>
    internal static (string Description, bool Open) ApiAuth(GatewayOptions options) => options switch
    {
        { ApiAuthKey.Length: > 0 } => ("API callers need the API key", false),
        _ => ("open, API callers need no key", true),
    };

    internal static string DescribeCluster(ClusterOptions cluster, string clusterId, int activeSilos)
    {
        var count = activeSilos == 1 ? "1 silo" : $"{activeSilos} silos";
        if (!string.IsNullOrWhiteSpace(cluster.Redis))
        {
            return $"Redis membership, cluster '{clusterId}', {count} active";
        }

        return string.IsNullOrWhiteSpace(cluster.PrimarySilo)
            ? "a single silo, membership in memory (localhost clustering)"
            : $"development clustering in memory through the silo at {cluster.PrimarySilo}, cluster '{clusterId}', {count} active";
    }

    /// <summary>True for addresses only this machine reaches: <c>localhost</c> and loopback IPs.</summary>
    internal static bool IsLoopback(string host)
    {
        var bare = host.Trim().TrimStart('[').TrimEnd(']');
        return bare.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(bare, out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>The URL with a wildcard host (0.0.0.0, [::]) replaced by one a browser on this machine opens.</summary>
    private static string BrowsableUrl(string url) => WithHost(url, "localhost");

    /// <summary>The URL with a wildcard host replaced by this machine's name, for commands run on other machines.</summary>
    private static string ReachableUrl(string url) => WithHost(url, Environment.MachineName.ToLowerInvariant());

    private static string WithHost(string url, string host)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return url.TrimEnd('/');
        }

        var wildcard = uri.Host is "0.0.0.0" or "[::]" or "::" or "+" or "*";
        return wildcard ? $"{uri.Scheme}://{host}:{uri.Port}" : url.TrimEnd('/');
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Synapse gateway {Version} listening on {Url}")]
    private static partial void LogListening(ILogger logger, string version, string url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster: {Cluster}")]
    private static partial void LogCluster(ILogger logger, string cluster);

    [LoggerMessage(Level = LogLevel.Information, Message = "Auth: {Api}; {Agents}")]
    private static partial void LogAuth(ILogger logger, string api, string agents);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent binary for {Platform}: {Path}")]
    private static partial void LogClientBinary(ILogger logger, string platform, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "No agent binary to serve, so /run cannot install agents yet: {Fix}")]
    private static partial void LogNoClientBinary(ILogger logger, string fix);

    [LoggerMessage(Level = LogLevel.Information, Message = "Attach an LLM server with: {Command}")]
    private static partial void LogAttach(ILogger logger, string command);

    [LoggerMessage(Level = LogLevel.Information, Message = "Status page: {Url}")]
    private static partial void LogStatusPage(ILogger logger, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This gateway is open to the network: it listens on {Host} without an API key, so anyone who reaches it can call its models; set --api-auth-key, or listen on localhost")]
    private static partial void LogOpenToTheNetwork(ILogger logger, string host);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not describe the gateway at start-up")]
    private static partial void LogBannerFailed(ILogger logger, Exception exception);
}
