using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Synapse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Synapse.Tests.Cluster;

/// <summary>
/// Three silo processes, two models with two agent processes each, steady mixed load through silos A and C, and
/// callers that walk away midway; meanwhile an agent and then silo B are killed and restarted. Every request is
/// counted, and afterwards the cluster must be back to a clean state.
/// </summary>
[Collection(RedisCollection.Name)]
[Trait("Category", "Process")]
public sealed class ChaosTests(RedisFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task KillAndRestartAgentAndSilo_UnderMixedLoad_NothingHangsAndOnlyRequestsInFlightAtAFaultFail()
    {
        var clusterId = "chaos-" + Guid.NewGuid().ToString("N")[..8];
        var silos = await fixture.StartClusterAsync(clusterId);
        var (a, c) = (silos[0], silos[2]);
        var b = silos[1];
        var models = new[] { GatewayFixture.UniqueModel(), GatewayFixture.UniqueModel() };
        var upstreams = new List<FakeUpstream>();
        var agents = new ProductProcess?[4];
        var load = new LoadRecorder();
        var abandoned = new AbandonedStreams();
        var faults = new List<(string Fault, TimeSpan At)>();
        using var stop = new CancellationTokenSource();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                upstreams.Add(await FakeUpstream.StartAsync($"u{i}", models[i / 2]));
                agents[i] = StartAgent(i, upstreams[i], silos);
            }

            await Eventually.UntilAsync(async () => await InstancesAsync(a, models) == 4, TimeSpan.FromSeconds(30), "both models have two instances");

            var loadStarted = DateTime.Now - load.Now;
            var running = Task.WhenAll(
                load.RunAsync(a.CreateClient, models[0], workers: 4, stop.Token),
                load.RunAsync(c.CreateClient, models[0], workers: 4, stop.Token),
                load.RunAsync(a.CreateClient, models[1], workers: 4, stop.Token),
                load.RunAsync(c.CreateClient, models[1], workers: 4, stop.Token),
                abandoned.RunAsync([a.CreateClient, c.CreateClient], models, stop.Token));
            await Eventually.UntilAsync(() => load.Results.Count(r => r.Outcome == LoadOutcome.Succeeded) >= 40, TimeSpan.FromSeconds(30), "load is flowing");

            faults.Add(("agent 0 killed", load.Now));
            agents[0]!.KillHard();
            await RunForAsync(load, Settle);

            faults.Add(("agent 0 restarted", load.Now));
            await agents[0]!.DisposeAsync();
            agents[0] = StartAgent(0, upstreams[0], silos);
            await Eventually.UntilAsync(async () => await InstancesAsync(a, models) == 4, TimeSpan.FromSeconds(20), "the restarted agent is registered again");
            await RunForAsync(load, Settle);

            faults.Add(("silo B killed", load.Now));
            b.Process.KillHard();
            await RunForAsync(load, Settle + Settle);

            faults.Add(("silo B restarted", load.Now));
            await b.DisposeAsync();
            b = SiloProcess.Start("B", fixture.Redis, clusterId, httpPort: b.HttpPort);
            silos[1] = b;
            await b.WaitReadyAsync(TimeSpan.FromSeconds(60));
            await RunForAsync(load, Settle);

            await stop.CancelAsync();
            await running;

            var report = Report(load, faults, abandoned, await RetriesAsync(a) + await RetriesAsync(c));
            output.WriteLine(report);
            Assert.DoesNotContain(load.Results, r => r.Outcome == LoadOutcome.Hung);
            Assert.DoesNotContain(load.Results, r => r.Outcome == LoadOutcome.Broken);
            Assert.Equal(0, abandoned.Hung);

            // A request that had not started when a fault struck always had another instance: it must succeed.
            var failedLate = load.Results.Where(r => r.Outcome != LoadOutcome.Succeeded && !faults.Any(f => r.Sent <= f.At && f.At <= r.Ended)).ToList();
            Assert.True(failedLate.Count == 0, "failed without being in flight at a fault: " + string.Join("; ", failedLate.Take(5)));
            foreach (var (fault, at) in faults)
            {
                var served = load.Results.Where(r => r.Sent > at && r.Outcome == LoadOutcome.Succeeded).Select(r => r.Ended - at).DefaultIfEmpty(TimeSpan.MaxValue).Min();
                Assert.True(served < TimeSpan.FromSeconds(5), $"after '{fault}' the first new request succeeded only {served.TotalSeconds:0.0} s later");
            }

            // Afterwards: nothing in flight or queued anywhere, and /status shows the cluster as it is.
            await Eventually.UntilAsync(
                async () =>
                {
                    var status = await StatusAsync(b);
                    return status.Silos.Count(s => s.Status == "Active") == 3
                        && models.All(m => status.Models.SingleOrDefault(x => x.Id == m) is { Queued: 0, Instances: { Length: 2 } instances } && instances.All(i => i.InFlight == 0))
                        && status.Agents.Count(x => x.Models.Intersect(models).Any()) == 4
                        && status.Agents.Where(x => x.Models.Intersect(models).Any()).All(x => x.InFlight == 0 && x.Connections.Length > 0);
                },
                TimeSpan.FromSeconds(30),
                "every instance is idle and /status shows three silos and four agents");
            await Eventually.UntilAsync(() => upstreams.All(u => u.Active == 0), TimeSpan.FromSeconds(10), "no upstream is still working");
            var walkedAway = upstreams.SelectMany(u => u.Requests).Where(r => r.Tokens == AbandonedStreams.Tokens).ToList();
            Assert.NotEmpty(walkedAway);
            var ranOn = walkedAway.Where(r => !r.Aborted).ToList();
            Assert.True(ranOn.Count == 0, $"{ranOn.Count} of {walkedAway.Count} streams callers walked away from were not cancelled upstream (completed: {ranOn.Count(r => r.Completed)}; at {string.Join(", ", ranOn.Select(r => r.ReceivedAt.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)))}); faults at {string.Join(", ", faults.Select(f => f.Fault + " " + f.At.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)))} s of a load started at {loadStarted:HH:mm:ss.fff}");
        }
        finally
        {
            await stop.CancelAsync();
            output.WriteLine(load.Summary());
            foreach (var agent in agents)
            {
                if (agent is not null)
                {
                    await agent.DisposeAsync();
                }
            }

            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }

            foreach (var upstream in upstreams)
            {
                await upstream.DisposeAsync();
            }
        }
    }

    private static ProductProcess StartAgent(int index, FakeUpstream upstream, SiloProcess[] silos) => ProductProcess.Start(
        ProductProcess.Agent,
        [
            "--upstream", upstream.Url,
            "--server-url", string.Join(',', silos.Select(s => s.WsUrl.ToString())),
            "--name", $"chaos-agent-{index}",
            "--max-concurrency", "64",
            "--connections", "2",
            "--discovery-interval", "5",
        ]);

    private static Task RunForAsync(LoadRecorder load, TimeSpan period)
    {
        var until = load.Now + period;
        return Eventually.UntilAsync(() => load.Now >= until, period + TimeSpan.FromSeconds(5), "load ran on");
    }

    private static async Task<int> InstancesAsync(SiloProcess silo, string[] models)
    {
        try
        {
            var status = await StatusAsync(silo);
            return status.Models.Where(m => models.Contains(m.Id)).Sum(m => m.Instances.Count(i => i.State is "ready" or "full"));
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private static async Task<StatusView> StatusAsync(SiloProcess silo)
    {
        using var client = silo.CreateClient();
        return (await client.GetFromJsonAsync<StatusView>(new Uri("/status", UriKind.Relative), JsonSerializerOptions.Web))!;
    }

    /// <summary>Sums <c>synapse_retries_total</c> on one silo's Prometheus endpoint.</summary>
    private static async Task<long> RetriesAsync(SiloProcess silo)
    {
        using var client = silo.CreateClient();
        var text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        return text.Split('\n')
            .Where(line => line.StartsWith("synapse_retries_total", StringComparison.Ordinal))
            .Sum(line => (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    private static string Report(LoadRecorder load, List<(string Fault, TimeSpan At)> faults, AbandonedStreams abandoned, long retries)
    {
        var results = load.Results.ToList();
        var lines = new List<string>
        {
            $"requests: {results.Count} (streams {results.Count(r => r.Stream)}), succeeded {results.Count(r => r.Outcome == LoadOutcome.Succeeded)}, " +
            $"clean errors {results.Count(r => r.Outcome == LoadOutcome.CleanError)}, hung {results.Count(r => r.Outcome == LoadOutcome.Hung)}, " +
            $"broken {results.Count(r => r.Outcome == LoadOutcome.Broken)}; retried by the gateway (silos A and C): {retries}; " +
            $"callers that walked away midway: {abandoned.Count} (hung {abandoned.Hung})",
        };
        foreach (var (fault, at) in faults)
        {
            var failed = results.Where(r => r.Outcome != LoadOutcome.Succeeded && r.Sent <= at && at <= r.Ended).ToList();
            var window = failed.Count == 0 ? TimeSpan.Zero : failed.Max(r => r.Ended) - at;
            var served = results.Where(r => r.Sent > at && r.Outcome == LoadOutcome.Succeeded).Select(r => r.Ended - at).DefaultIfEmpty(TimeSpan.Zero).Min();
            lines.Add($"{fault} at {at.TotalSeconds:0.0} s: {failed.Count} in-flight requests ended with a clean error " +
                $"({string.Join(", ", failed.GroupBy(r => r.Detail).Select(g => $"{g.Key} x{g.Count()}"))}), error window {window.TotalMilliseconds:0} ms, " +
                $"first request sent after it answered in {served.TotalMilliseconds:0} ms");
        }

        return string.Join('\n', lines);
    }

    private sealed record StatusView(List<SiloView> Silos, List<ModelView> Models, List<AgentView> Agents);

    private sealed record SiloView(string Address, string Status);

    private sealed record ModelView(string Id, int Queued, InstanceView[] Instances);

    private sealed record InstanceView(string AgentId, string State, int InFlight);

    private sealed record AgentView(string AgentId, string[] Models, int InFlight, JsonElement[] Connections);

    /// <summary>Callers that start a long stream, read two events and hang up, over and over.</summary>
    private sealed class AbandonedStreams
    {
        public const int Tokens = 200;

        private int _count;
        private int _hung;

        public int Count => _count;

        public int Hung => _hung;

        public Task RunAsync(Func<HttpClient>[] clients, string[] models, CancellationToken stop) =>
            Task.WhenAll(clients.SelectMany(client => models.Select(model => LoopAsync(client, model, stop))));

        private async Task LoopAsync(Func<HttpClient> clients, string model, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = clients();
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(40));
                try
                {
                    using var response = await ChatCalls.StreamAsync(client, model, Tokens, delayMs: 20).WaitAsync(deadline.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        var reader = new SseReader(await response.Content.ReadAsStreamAsync(deadline.Token));
                        await reader.NextDataAsync(deadline.Token);
                        await reader.NextDataAsync(deadline.Token);
                    }

                    Interlocked.Increment(ref _count);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _hung);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException)
                {
                    // A fault ended the stream before two events: that is a clean end, not a hang.
                    Interlocked.Increment(ref _count);
                }
            }
        }
    }
}
