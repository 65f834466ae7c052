using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Synapse.Tests.Cluster;
using Synapse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Synapse.Tests.Limits;

/// <summary>
/// Limits held across three silo processes with Redis, callers spread over all three: a key limited to 600 requests
/// a minute asking for 2,000 gets 570 to 630; a key limited to 4 in flight never has more than one over per silo.
/// Usage kept in Redis outlives a restart of the whole cluster.
/// </summary>
[Collection(RedisCollection.Name)]
[Trait("Category", "Process")]
public sealed class ClusterLimitsTests(RedisFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("synapse-cluster-limits-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task LimitsAcrossThreeSilos_AdmitTheRatePerMinute_AndHoldMaxParallel()
    {
        var silos = await fixture.StartClusterAsync(environment: new Dictionary<string, string> { ["SYNAPSE_CONFIG"] = WriteConfig() });
        await using var fast = await FakeUpstream.StartAsync("fast", "rate-model");
        await using var slow = await FakeUpstream.StartAsync("slow", "parallel-model");
        await using var rateAgent = TestAgent.Start([.. silos.Select(s => s.WsUrl)], fast.Url, o => { o.WsAuthKey = "sekret-cl-ws"; o.MaxConcurrency = 64; });
        await using var parallelAgent = TestAgent.Start([.. silos.Select(s => s.WsUrl)], slow.Url, o => { o.WsAuthKey = "sekret-cl-ws"; o.MaxConcurrency = 64; });
        try
        {
            await Task.WhenAll(silos.Select(s => Eventually.UntilAsync(
                async () => await ServesAsync(s, "rate-model") && await ServesAsync(s, "parallel-model"),
                TimeSpan.FromSeconds(30),
                $"silo {s.Name} routes both models")));

            using var stop = new CancellationTokenSource();
            var parallelStatuses = new ConcurrentQueue<HttpStatusCode>();
            var parallel = Task.WhenAll(silos.SelectMany(s => Enumerable.Range(0, 4).Select(_ => HoldCallsAsync(s, parallelStatuses, stop.Token))));

            // 2,000 asks over 60 s, one every 30 ms, round robin over the silos.
            var statuses = new ConcurrentQueue<HttpStatusCode>();
            var heads = new ConcurrentQueue<(string? Limit, string? Remaining)>();
            var calls = new List<Task>();
            var clients = silos.Select(s => Client(s, "sekret-cl-rate")).ToArray();
            var asking = System.Diagnostics.Stopwatch.StartNew();
            using (var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(30)))
            {
                for (var i = 0; i < 2000; i++)
                {
                    await pace.WaitForNextTickAsync();
                    var client = clients[i % 3];
                    calls.Add(Task.Run(async () =>
                    {
                        using var response = await ChatCalls.PostRawAsync(client, "rate-model", tokens: 3, delayMs: 0);
                        await response.Content.ReadAsByteArrayAsync();
                        statuses.Enqueue(response.StatusCode);
                        heads.Enqueue((Header(response, "x-ratelimit-limit-requests"), Header(response, "x-ratelimit-remaining-requests")));
                    }));
                }
            }

            // A loaded machine ticks late: the asks then span a little more than a minute, and the rate is per minute.
            var askedFor = asking.Elapsed;
            await Task.WhenAll(calls);
            await stop.CancelAsync();
            await parallel;

            var admitted = statuses.Count(s => s == HttpStatusCode.OK);
            var perMinute = admitted * 60 / askedFor.TotalSeconds;
            output.WriteLine($"rpm 600: {admitted} admitted of {statuses.Count} asked over {askedFor.TotalSeconds:0.0} s, {perMinute:0} a minute; max_parallel 4: peak {slow.PeakActive} in flight, {parallelStatuses.Count(s => s == HttpStatusCode.OK)} served, {parallelStatuses.Count(s => s == HttpStatusCode.TooManyRequests)} refused");
            Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"status {s}"));
            Assert.InRange(perMinute, 570, 630);

            // Every answer, admitted or refused, on whichever silo: the limit and what the silo knows is left.
            Assert.All(heads, h =>
            {
                Assert.Equal("600", h.Limit);
                Assert.InRange(int.Parse(h.Remaining!, System.Globalization.CultureInfo.InvariantCulture), 0, 15);
            });

            // The OpenAI SDK on a key over its rate, through another silo: it waits as told and succeeds.
            var sdk = new OpenAI.Chat.ChatClient("rate-model", new System.ClientModel.ApiKeyCredential("sekret-cl-sdk"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(silos[1].BaseUrl + "/v1") });
            for (var i = 0; i < 3; i++)
            {
                OpenAI.Chat.ChatCompletion completion = await sdk.CompleteChatAsync([new OpenAI.Chat.UserChatMessage("hi")]);
                Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
            }
            Assert.InRange(slow.PeakActive, 1, 4 + silos.Length);
            Assert.Contains(HttpStatusCode.TooManyRequests, parallelStatuses);
            Assert.All(parallelStatuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"status {s}"));
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Usage_KeptInRedis_OutlivesARestartOfTheWholeCluster()
    {
        var clusterId = "usage-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string> { ["SYNAPSE_CONFIG"] = WriteConfig(), ["Synapse__Cluster__ServiceId"] = clusterId };
        await using var upstream = await FakeUpstream.StartAsync("usage", "rate-model");
        var silo = SiloProcess.Start("A", fixture.Redis, clusterId, environment);
        int promised;
        int total;
        await using (var agent = TestAgent.Start([silo.WsUrl], upstream.Url, o => o.WsAuthKey = "sekret-cl-ws"))
        {
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
            await Eventually.UntilAsync(() => ServesAsync(silo, "rate-model"), TimeSpan.FromSeconds(30), "the model is served");
            using var client = Client(silo, "sekret-cl-free");

            // Calls for 8 s, then a hard kill: every call that ended more than a flush plus a write before the kill
            // (1 s + 5 s, the README's promise) must be in Redis.
            var ended = new List<DateTime>();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(8))
            {
                Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, "rate-model", delayMs: 50));
                ended.Add(DateTime.UtcNow);
            }

            var killedAt = DateTime.UtcNow;
            silo.Process.KillHard();
            await silo.DisposeAsync();
            promised = ended.Count(t => t < killedAt - TimeSpan.FromSeconds(6));
            total = ended.Count;
        }

        // A fresh cluster of the same service: storage is keyed by the service, membership by the cluster.
        await using var restarted = SiloProcess.Start("A2", fixture.Redis, clusterId + "-2", environment);
        await restarted.WaitReadyAsync(TimeSpan.FromSeconds(60));
        // The usage grain activates afresh and reads its state: ask until it answers.
        long kept = -1;
        await Eventually.UntilAsync(
            async () =>
            {
                try
                {
                    kept = await TodayAsync(restarted);
                    return true;
                }
                catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or TaskCanceledException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(60),
            "the restarted cluster answers /usage");
        output.WriteLine($"{total} calls, {promised} ended over 6 s before the kill, {kept} kept after the restart");
        Assert.InRange(kept, promised, total);
        Assert.True(promised > 0);
    }

    private static async Task HoldCallsAsync(SiloProcess silo, ConcurrentQueue<HttpStatusCode> statuses, CancellationToken stop)
    {
        using var client = Client(silo, "sekret-cl-parallel");
        while (!stop.IsCancellationRequested)
        {
            using var response = await ChatCalls.PostRawAsync(client, "parallel-model", tokens: 10, delayMs: 50);
            await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            statuses.Enqueue(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                // As a client honouring Retry-After would (in tenths, to keep the slots contended).
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
            }
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    private static HttpClient Client(SiloProcess silo, string key)
    {
        var client = silo.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<bool> ServesAsync(SiloProcess silo, string model)
    {
        using var client = Client(silo, "sekret-cl-free");
        using var response = await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative));
        return response.IsSuccessStatusCode;
    }

    private static async Task<long> TodayAsync(SiloProcess silo)
    {
        using var client = Client(silo, "sekret-cl-free");
        using var response = await client.GetAsync(new Uri("/usage", UriKind.Relative));
        using var usage = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return usage.RootElement.GetProperty("keys")[0].GetProperty("today").GetProperty("requests").GetInt64();
    }

    private string WriteConfig()
    {
        var file = Path.Combine(_folder.FullName, "groups.yaml");
        File.WriteAllText(file, """
            groups:
              - name: team
                ws_auth_keys: [sekret-cl-ws]
                api_keys:
                  - { name: rate, key: sekret-cl-rate, limits: { rpm: 600 } }
                  - { name: parallel, key: sekret-cl-parallel, limits: { max_parallel: 4 } }
                  - { name: free, key: sekret-cl-free }
                  - { name: sdk, key: sekret-cl-sdk, limits: { rpm: 60 } }

            """);
        return file;
    }
}
