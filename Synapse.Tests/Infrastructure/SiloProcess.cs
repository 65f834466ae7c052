using System.Globalization;

namespace Synapse.Tests.Infrastructure;

/// <summary>A gateway silo as its own process, joined to a Redis-membership cluster.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private SiloProcess(ProductProcess process, string name, int httpPort)
    {
        Process = process;
        Name = name;
        HttpPort = httpPort;
    }

    public ProductProcess Process { get; }

    public string Name { get; }

    public int HttpPort { get; }

    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";

    public Uri WsUrl => new($"ws://127.0.0.1:{HttpPort}/ws");

    /// <param name="httpPort">The HTTP port to listen on; a restarted silo takes its old one, so agents find it again.</param>
    public static SiloProcess Start(string name, RedisServer redis, string clusterId, IReadOnlyDictionary<string, string>? environment = null, int? httpPort = null)
    {
        var http = httpPort ?? FreePorts.Next();
        var env = new Dictionary<string, string>
        {
            ["Synapse__Agents__HeartbeatInterval"] = "00:00:01",
            ["Synapse__Agents__HeartbeatTimeout"] = "00:00:03",
            ["Synapse__Gateway__DrainTimeout"] = "00:00:15",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        var process = ProductProcess.Start(
            ProductProcess.Gateway,
            [
                "--host", "127.0.0.1",
                "--port", http.ToString(CultureInfo.InvariantCulture),
                "--silo-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                "--gateway-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                "--redis", redis.ConnectionString,
                "--cluster-id", clusterId,
                "--advertise-address", "127.0.0.1",
            ],
            env);
        return new SiloProcess(process, name, http);
    }

    public HttpClient CreateClient()
    {
        var handler = new SocketsHttpHandler { MaxResponseDrainSize = 0, ResponseDrainTimeout = TimeSpan.Zero };
        return new HttpClient(handler) { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var client = CreateClient();
        await Eventually.UntilAsync(
            async () =>
            {
                if (Process.HasExited)
                {
                    throw new InvalidOperationException($"silo {Name} exited with {Process.ExitCode}:\n{Process.Output}");
                }

                try
                {
                    return (await client.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            timeout,
            $"silo {Name} is ready");
    }

    /// <summary>Waits until this silo lists <paramref name="model"/> (through whichever silos hold its agents).</summary>
    public async Task WaitForModelAsync(string model, TimeSpan timeout)
    {
        using var client = CreateClient();
        await Eventually.UntilAsync(
            async () =>
            {
                try
                {
                    return (await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative))).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            timeout,
            $"silo {Name} lists {model}");
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
