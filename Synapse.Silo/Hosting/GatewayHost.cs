using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Synapse.Grains.Agents;
using Synapse.Grains.Relay;
using Synapse.Silo.Agents;
using Synapse.Silo.Api.Auth;
using Synapse.Silo.Api.Models;
using Synapse.Silo.Api.Proxy;
using Synapse.Silo.Cluster;
using Synapse.Silo.Forwarding;
using Synapse.Silo.Install;
using Synapse.Silo.Observability;
using Synapse.Silo.Observability.History;
using Synapse.Silo.Status;
using Synapse.Silo.Limits;
using Synapse.Silo.Tenancy;
using Synapse.Silo.Usage;
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
        ConfigureLogging(builder.Logging);

        // Each bound once and validated here, before anything is built from them: Kestrel, Orleans and the services
        // all see the same validated objects, and a bad value stops the start with every reason at once.
        var gateway = ValidatedOptions.Add(builder, GatewayOptions.SectionName, new GatewayOptionsValidator());
        var cluster = ValidatedOptions.Add(builder, ClusterOptions.SectionName, new ClusterOptionsValidator());
        ValidatedOptions.Add(builder, AgentSessionOptions.SectionName, new AgentSessionOptionsValidator());
        builder.Services.AddTenancy(builder.Configuration);
        builder.Services.AddUsage();
        builder.Services.AddLimits();

        builder.WebHost.UseUrls(ListenUrl(gateway));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = gateway.MaxRequestBodyBytes;
            kestrel.Limits.RequestHeadersTimeout = gateway.RequestHeadersTimeout;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(gateway.MinRequestBodyBytesPerSecond, gateway.RequestBodyGracePeriod);

            kestrel.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            kestrel.Limits.MaxRequestLineSize = 16 * 1024;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = gateway.DrainTimeout + TimeSpan.FromSeconds(20));

        var kubernetes = KubernetesEnvironment.Detect(Environment.GetEnvironmentVariable);
        var tracing = TelemetrySetup.IsTracingEnabled(builder.Configuration);
        builder.UseOrleans(silo => OrleansSetup.Configure(silo, cluster, kubernetes, tracing));

        AddServices(builder);

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
                StartupBanner.WriteWhenStarted(app);
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

    /// <summary>One line per entry; the frameworks' chatter only from warnings up.</summary>
    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.IncludeScopes = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        logging.AddFilter("Orleans", LogLevel.Warning);
        logging.AddFilter("Polly", LogLevel.Warning);

        // Pulling agents (and broadcast-channel writers) log every failed read or publish as an error while a peer silo
        // leaves, then are retried; the relay's own retries, stall watchdog and logs cover what matters to an operator.
        logging.AddFilter("Orleans.Providers.MemoryAdapterReceiver", LogLevel.Critical);
        logging.AddFilter("Orleans.Streams", LogLevel.Critical);
        logging.AddFilter("Orleans.BroadcastChannel", LogLevel.Critical);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
    }

    /// <summary>The gateway's services; registered after <c>UseOrleans</c>, so its hosted services start after the silo's.</summary>
    private static void AddServices(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<GatewayState>();
        services.AddSingleton<Observability.RefusalLogLimiter>();
        services.AddSingleton<ClusterView>();
        services.AddSingleton<AgentSessionRegistry>();
        services.AddSingleton<ILocalAgentConnections>(sp => sp.GetRequiredService<AgentSessionRegistry>());
        services.AddSingleton<AgentSessionServices>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloReadiness>();
        services.AddSingleton<GrainReferences>();
        services.AddSingleton<UpstreamConnector>();
        services.AddSingleton<InstanceLeaser>();
        services.AddSingleton<ForwardingAttempt>();
        services.AddSingleton<RequestForwarder>();
        services.AddHostedService<AgentKeyRevoker>();
        services.AddHostedService<RegistrationRefresher>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<ClientBinaries>();
        services.AddSingleton<ClusterStatusProvider>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterStatusProvider>());
        services.AddSingleton<ClusterHistoryProvider>();
        services.AddTrafficHistory();
        builder.AddGatewayTelemetry();
        services.AddHostedService<DrainCoordinator>();
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
}
