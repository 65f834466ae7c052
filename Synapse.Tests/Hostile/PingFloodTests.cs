using System.Globalization;
using System.Net.WebSockets;
using Synapse.Protocol.Frames;
using Synapse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Synapse.Tests.Hostile;

/// <summary>
/// Agents that flood pings in batches of 100,000 and never read what comes back. A gateway answering each ping
/// with its own queued pong took 600+ MB per socket; now at most one pong waits per socket, every queued frame
/// counts its real cost, and the memory comes back once the sockets are gone. Measured on a real gateway process
/// with the product's server GC, as users run it.
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "Process")]
public sealed class PingFloodTests(ITestOutputHelper output)
{
    private const string WsKey = "flood-ws-key";
    private const int Sockets = 4;
    private const int PingsPerBatch = 100_000;
    private static readonly TimeSpan FloodFor = TimeSpan.FromSeconds(12);

    [Fact]
    public async Task Gateway_FourSocketsFloodingPingsWithoutReading_StaysWithin150MBAndReturnsWithin40MB()
    {
        var port = FreePorts.Next();
        await using var gateway = ProductProcess.Start(
            ProductProcess.Gateway,
            [
                "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
                "--silo-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                "--gateway-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                "--ws-auth-key", WsKey,
            ],
            new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" });
        var baseUrl = $"http://127.0.0.1:{port}";
        var wsUrl = new Uri($"ws://127.0.0.1:{port}/ws");
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        await Eventually.UntilAsync(async () => await IsReadyAsync(http), TimeSpan.FromSeconds(60), "the gateway is ready");

        // Warm up (code jitted, pools primed) with one short flood, then take the baseline.
        await FloodAsync(wsUrl, sockets: 1, TimeSpan.FromSeconds(2), _ => { });
        var baseline = await SettledRssAsync(gateway.Id);

        long peak = 0;
        await FloodAsync(wsUrl, Sockets, FloodFor, _ => peak = Math.Max(peak, Rss(gateway.Id)));

        output.WriteLine($"baseline {Mb(baseline)} MB, peak {Mb(peak)} MB");
        Assert.True(peak - baseline < 150L << 20, $"peak RSS {Mb(peak)} MB, baseline {Mb(baseline)} MB (+{Mb(peak - baseline)} MB)");
        long now = 0;
        await Eventually.UntilAsync(
            () => (now = Rss(gateway.Id)) - baseline < 40L << 20,
            TimeSpan.FromSeconds(60),
            $"RSS returns within 40 MB of the baseline {Mb(baseline)} MB (peak {Mb(peak)} MB)");
        output.WriteLine($"after the sockets were cut: {Mb(now)} MB");
        Assert.True(await IsReadyAsync(http), "the gateway still serves");
        Assert.DoesNotContain("Unhandled", gateway.Output, StringComparison.Ordinal);
    }

    /// <summary>Welcomed sockets sending 1 MB batches of pings as fast as they can, reading nothing, then cut.</summary>
    private static async Task FloodAsync(Uri wsUrl, int sockets, TimeSpan duration, Action<int> sample)
    {
        var batch = PingBatch();
        var raws = new List<RawAgent>();
        for (var i = 0; i < sockets; i++)
        {
            var raw = await RawAgent.ConnectAsync(wsUrl, WsKey);
            await raw.SendHelloAsync(RawAgent.Hello("flood-" + Guid.NewGuid().ToString("N")[..6], "flood-model"));
            Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(10)));
            raws.Add(raw);
        }

        var until = DateTime.UtcNow + duration;
        var senders = raws.Select(raw => Task.Run(async () =>
        {
            try
            {
                while (DateTime.UtcNow < until)
                {
                    await raw.SendRawAsync(batch);
                }
            }
            catch (WebSocketException)
            {
                // The gateway may cut a peer like this; that is fine too.
            }
        })).ToArray();

        var sampling = Task.WhenAll(senders);
        while (!sampling.IsCompleted)
        {
            sample(0);
            await Task.WhenAny(sampling, Task.Delay(100));
        }

        foreach (var raw in raws)
        {
            await raw.DisposeAsync();
        }
    }

    private static byte[] PingBatch()
    {
        var ping = FrameCodec.Ping(FrameType.Ping, 7);
        var one = ping.Span.ToArray();
        ping.Return();
        var batch = new byte[1 + (PingsPerBatch * (1 + one.Length))];
        batch[0] = (byte)FrameType.Batch;
        var at = 1;
        for (var i = 0; i < PingsPerBatch; i++)
        {
            batch[at++] = (byte)one.Length;
            one.CopyTo(batch, at);
            at += one.Length;
        }

        return batch;
    }

    /// <summary>RSS once it stopped moving (within 2 MB over a second), so the baseline is not caught mid-growth.</summary>
    private static async Task<long> SettledRssAsync(int pid)
    {
        var previous = Rss(pid);
        var settled = previous;
        await Eventually.UntilAsync(
            async () =>
            {
                await Task.Delay(1000);
                var current = Rss(pid);
                var still = Math.Abs(current - previous) < 2L << 20;
                previous = current;
                settled = current;
                return still;
            },
            TimeSpan.FromSeconds(30),
            "the gateway's RSS settles");
        return settled;
    }

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd(" kB"), CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("no VmRSS");
    }

    private static async Task<bool> IsReadyAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static long Mb(long bytes) => bytes >> 20;
}
