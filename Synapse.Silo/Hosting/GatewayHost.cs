using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Synapse.Grains.Agents;
using Synapse.Grains.Relay;
using Synapse.Silo.Agents;
using Synapse.Silo.Api.Auth;
using Synapse.Silo.Api.Models;
using Synapse.Silo.Api.Proxy;
using Synapse.Silo.Cluster;
using Synapse.Silo.Install;
using Synapse.Silo.Observability;
using Synapse.Silo.Status;
using Synapse.Silo.Tenancy;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Hosting;

/// <summary>Builds the gateway: one Orleans silo co-hosted with the ASP.NET Core front end.</summary>
public static partial class GatewayHost
{
    /// <param name="settings">Configuration keys, as the command line produces them.</param>
    /// <param name="configure">Last word on the builder (tests, embedding).</param>
    public static WebApplication Build(IReadOnlyDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.IncludeScopes = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);

        // Pulling agents log every failed read as an error while a peer silo leaves, then retry by themselves;
        // the relay's own retries, stall watchdog and logs cover what matters to an operator.
        builder.Logging.AddFilter("Orleans.Providers.MemoryAdapterReceiver", LogLevel.Critical);
        builder.Logging.AddFilter("Orleans.Streams", LogLevel.Critical);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);

        var gateway = Bind<GatewayOptions>(builder, GatewayOptions.SectionName);
        var cluster = Bind<ClusterSettings>(builder, ClusterSettings.SectionName);
        var relay = Bind<RelayOptions>(builder, RelayOptions.SectionName);
        AddOptions(builder.Services);
        builder.Services.AddTenancy(builder.Configuration);

        builder.WebHost.UseUrls(ListenUrl(gateway));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = gateway.MaxRequestBodyBytes;

            // Out-of-range values make Kestrel throw here; they are left out so that validation reports them instead.
            if (gateway.RequestHeadersTimeout > TimeSpan.Zero)
            {
                kestrel.Limits.RequestHeadersTimeout = gateway.RequestHeadersTimeout;
            }

            if (gateway.MinRequestBodyBytesPerSecond > 0 && gateway.RequestBodyGracePeriod > TimeSpan.FromSeconds(1))
            {
                kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(gateway.MinRequestBodyBytesPerSecond, gateway.RequestBodyGracePeriod);
            }

            kestrel.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            kestrel.Limits.MaxRequestLineSize = 16 * 1024;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = gateway.DrainTimeout + TimeSpan.FromSeconds(20));

        var kubernetes = KubernetesEnvironment.Detect(Environment.GetEnvironmentVariable);
        var tracing = TelemetrySetup.IsTracingEnabled(builder.Configuration);
        builder.UseOrleans(silo => OrleansSetup.Configure(silo, cluster, relay, kubernetes, tracing));

        var services = builder.Services;
        services.AddSingleton<GatewayState>();
        services.AddSingleton<Observability.RefusalLogLimiter>();
        services.AddSingleton<ClusterView>();
        services.AddSingleton<AgentSessionRegistry>();
        services.AddSingleton<ILocalAgentConnections>(sp => sp.GetRequiredService<AgentSessionRegistry>());
        services.AddSingleton<AgentSessionServices>();
        services.AddSingleton<RemoteResponseTable>();
        services.AddSingleton<IRelayInbox>(sp => sp.GetRequiredService<RemoteResponseTable>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloReadiness>();
        services.AddSingleton<GrainReferences>();
        services.AddSingleton<UpstreamConnector>();
        services.AddSingleton<RequestForwarder>();
        services.AddSingleton<ApiKeyValidator>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<ClientBinaries>();
        services.AddSingleton<ClusterStatusProvider>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterStatusProvider>());
        builder.AddGatewayTelemetry();
        services.AddHostedService<MembershipWatcher>();
        services.AddHostedService<RelayStallWatchdog>();
        services.AddHostedService<DrainCoordinator>();

        configure?.Invoke(builder);

        var app = builder.Build();
        GatewayEndpoints.Map(app);
        return app;
    }

    /// <summary>Runs the gateway until SIGTERM or Ctrl+C; returns the process exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string?> settings)
    {
        WebApplication app;
        try
        {
            app = Build(settings);
        }
        catch (Exception ex) when (ex is OptionsValidationException or FormatException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"error: invalid configuration: {ex.Message}");
            return 2;
        }

        await using (app)
        {
            try
            {
                var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Synapse.Gateway");
                var options = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
                var url = ListenUrl(options);
                var keys = app.Services.GetRequiredService<TenancyConfigSource>().Current;
                LogStarting(logger, GatewayCommandLine.Version, url, keys.ApiKeyRequired, keys.AgentKeyRequired);
                await app.RunAsync();
                return 0;
            }
            catch (OptionsValidationException ex)
            {
                await Console.Error.WriteLineAsync($"error: invalid configuration: {string.Join("; ", ex.Failures)}");
                return 2;
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"error: cannot listen: {ex.Message}");
                return 1;
            }
        }
    }

    private static string ListenUrl(GatewayOptions options)
    {
        var host = options.Host.Contains(':', StringComparison.Ordinal) && !options.Host.StartsWith('[') ? $"[{options.Host}]" : options.Host;
        if (host is "0.0.0.0" or "*")
        {
            host = "0.0.0.0";
        }

        return $"http://{host}:{options.Port}";
    }

    private static T Bind<T>(WebApplicationBuilder builder, string section)
        where T : new()
    {
        var value = new T();
        builder.Configuration.GetSection(section).Bind(value);
        return value;
    }

    private static void AddOptions(IServiceCollection services)
    {
        services.AddOptions<GatewayOptions>()
            .BindConfiguration(GatewayOptions.SectionName)
            .Validate(o => o.Port is >= 0 and <= 65535, "--port must be 0-65535.")
            .Validate(o => o.MaxRequestBodyBytes is > 0 and <= 1L << 31, "--max-request-body must be between 1 byte and 2 GiB.")
            .Validate(o => o.MaxAttempts is >= 1 and <= 10, "Synapse:Gateway:MaxAttempts must be 1-10.")
            .Validate(o => o.DrainTimeout >= TimeSpan.Zero, "--drain-timeout must not be negative.")
            .Validate(o => o.RequestHeadersTimeout > TimeSpan.Zero, "Synapse:Gateway:RequestHeadersTimeout must be positive.")
            .Validate(
                o => o.MinRequestBodyBytesPerSecond > 0 && o.RequestBodyGracePeriod > TimeSpan.FromSeconds(1),
                "Synapse:Gateway:MinRequestBodyBytesPerSecond must be positive and RequestBodyGracePeriod more than 1 s.")
            .ValidateOnStart();
        services.AddOptions<ClusterSettings>()
            .BindConfiguration(ClusterSettings.SectionName)
            .Validate(o => !string.IsNullOrWhiteSpace(o.ClusterId) && !string.IsNullOrWhiteSpace(o.ServiceId), "--cluster-id and --service-id must not be empty.")
            .Validate(o => o.AdvertiseAddress is null || System.Net.IPAddress.TryParse(o.AdvertiseAddress, out _), "--advertise-address must be an IP address.")
            .ValidateOnStart();
        services.AddOptions<AgentSessionOptions>()
            .BindConfiguration(AgentSessionOptions.SectionName)
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero && o.HeartbeatTimeout > o.HeartbeatInterval, "Synapse:Agents: the heartbeat timeout must exceed the interval.")
            .Validate(o => o.MaxFrameBytes is >= 64 * 1024 and <= 64 * 1024 * 1024, "Synapse:Agents:MaxFrameBytes must be 64 KiB to 64 MiB.")
            .Validate(o => o.InitialWindowBytes >= 16 * 1024, "Synapse:Agents:InitialWindowBytes must be at least 16 KiB.")
            .ValidateOnStart();
        services.AddOptions<RelayOptions>()
            .BindConfiguration(RelayOptions.SectionName)
            .Validate(o => o.PollingPeriod > TimeSpan.Zero && o.Queues > 0, "Synapse:Relay needs a positive polling period and queue count.")
            .Validate(o => o.StallTimeout > o.KeepAliveInterval * 2, "Synapse:Relay:StallTimeout must exceed twice the keepalive interval.")
            .Validate(o => o.PullRetryMaxDelay > TimeSpan.Zero, "Synapse:Relay:PullRetryMaxDelay must be positive.")
            .ValidateOnStart();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Synapse gateway {Version} listening on {Url} (API key {ApiKey}, WebSocket key {WsKey})")]
    private static partial void LogStarting(ILogger logger, string version, string url, bool apiKey, bool wsKey);
}
