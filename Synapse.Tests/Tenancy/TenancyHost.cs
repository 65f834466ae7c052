using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Synapse.Silo.Tenancy;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Tenancy;

/// <summary>
/// Key groups registered as the gateway registers them (<c>AddTenancy</c>), in a bare host with no Kestrel or
/// silo: the real source and watcher over a real file, with its log lines and <c>synapse.config.reloads</c>
/// measurements captured.
/// </summary>
public sealed class TenancyHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly MeterListener _listener;

    private TenancyHost(IHost host, TestLog log, MeterListener listener, ConcurrentQueue<string> reloads)
    {
        _host = host;
        Log = log;
        _listener = listener;
        Reloads = reloads;
    }

    public TenancyConfigSource Source => _host.Services.GetRequiredService<TenancyConfigSource>();

    public TestLog Log { get; }

    /// <summary>The <c>result</c> tag of every <c>synapse.config.reloads</c> measurement, in order.</summary>
    public ConcurrentQueue<string> Reloads { get; }

    public static async Task<TenancyHost> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        var log = new TestLog();
        builder.Logging.AddProvider(log);
        builder.Services.AddMetrics();
        builder.Services.AddTenancy(builder.Configuration);
        var host = builder.Build();

        var factory = host.Services.GetRequiredService<IMeterFactory>();
        var reloads = new ConcurrentQueue<string>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == TenancyConfigSource.ReloadsMetric && instrument.Meter.Scope == factory)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "result")
                {
                    reloads.Enqueue((string)tag.Value!);
                }
            }
        });
        listener.Start();
        await host.StartAsync();
        return new TenancyHost(host, log, listener, reloads);
    }

    /// <summary>A host reading <paramref name="file"/>; the watcher and poll can be switched off to test each alone.</summary>
    public static Task<TenancyHost> StartAsync(string file, bool watchDirectory = true, TimeSpan? poll = null, bool signal = false) =>
        StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Tenancy:ConfigFile"] = file,
            ["Synapse:Tenancy:WatchDirectory"] = watchDirectory ? "true" : "false",
            ["Synapse:Tenancy:PollInterval"] = (poll ?? TimeSpan.FromSeconds(1)).ToString("c", System.Globalization.CultureInfo.InvariantCulture),

            // Tests run in one process with many hosts: none of them may take the process's SIGHUP.
            ["Synapse:Tenancy:ReloadOnSignal"] = signal ? "true" : "false",
        });

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _listener.Dispose();
    }
}
