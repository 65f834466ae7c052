using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Synapse.Silo.Cluster;
using Synapse.Silo.Hosting;

namespace Synapse.Tests.Infrastructure;

/// <summary>
/// A real gateway in this process: the same <see cref="GatewayHost"/> as the product, an Orleans silo and Kestrel
/// on loopback ports chosen at run time. Several can form one cluster (development clustering).
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestGateway(WebApplication app, TestLog log, int siloPort)
    {
        _app = app;
        Log = log;
        SiloPort = siloPort;
        BaseUrl = app.Urls.First().TrimEnd('/');
        WsUrl = new Uri(BaseUrl.Replace("http://", "ws://", StringComparison.Ordinal) + "/ws");
    }

    public string BaseUrl { get; }

    public Uri WsUrl { get; }

    public int SiloPort { get; }

    public TestLog Log { get; }

    public IServiceProvider Services => _app.Services;

    public SiloAddress SiloAddress => Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    public HttpClient CreateClient(string? apiKey = null)
    {
        // No draining of abandoned responses: a disposed response closes its connection at once, as a caller going away does.
        var handler = new SocketsHttpHandler { MaxResponseDrainSize = 0, ResponseDrainTimeout = TimeSpan.Zero };
        var client = new HttpClient(handler) { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <param name="settings">Extra configuration keys (e.g. <c>Synapse:Gateway:ApiAuthKey</c>).</param>
    /// <param name="join">A gateway whose cluster this one joins.</param>
    public static async Task<TestGateway> StartAsync(IReadOnlyDictionary<string, string?>? settings = null, TestGateway? join = null, string? clusterId = null, Action<WebApplicationBuilder>? configure = null)
    {
        var siloPort = FreePorts.Next();
        var config = new Dictionary<string, string?>
        {
            ["Synapse:Gateway:Host"] = "127.0.0.1",
            ["Synapse:Gateway:Port"] = "0",
            ["Synapse:Gateway:DrainTimeout"] = "00:00:05",
            ["Synapse:Cluster:SiloPort"] = siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Synapse:Cluster:GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Synapse:Cluster:ClusterId"] = clusterId ?? "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Synapse:Cluster:ServiceId"] = "synapse-tests",
        };
        if (join is not null)
        {
            config["Synapse:Cluster:PrimarySilo"] = $"127.0.0.1:{join.SiloPort}";
            config["Synapse:Cluster:ClusterId"] = join.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ClusterOptions>>().Value.ClusterId;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var log = new TestLog();
        var app = GatewayHost.Build(config, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(log);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddFilter("Orleans", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            builder.Logging.AddFilter("Polly", LogLevel.Warning);
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        var gateway = new TestGateway(app, log, siloPort);
        var state = app.Services.GetRequiredService<GatewayState>();
        await Eventually.UntilAsync(() => state.IsReady, TimeSpan.FromSeconds(30), "the gateway is ready");
        return gateway;
    }

    /// <summary>Graceful stop (as on SIGTERM): drain, then leave the cluster.</summary>
    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await _app.StopAsync(timeout.Token);
        }
        catch (Exception)
        {
            // Already stopped, or a test killed parts of it.
        }

        await _app.DisposeAsync();
    }
}
