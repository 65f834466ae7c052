using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Synapse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Synapse.Tests.Tenancy;

/// <summary>
/// The key-groups file rewritten under a two-silo cluster while callers stream without pause: keys added and
/// removed, the file broken and fixed, an agent key revoked. Nobody whose key stays is ever refused or cut off, and
/// every change is in force on both silos within 2 s.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class KeyGroupReloadUnderLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Steady = "steady-model";
    private const string Doomed = "doomed-model";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("synapse-reload-");
    private TestGateway _first = null!;
    private TestGateway _second = null!;

    private string File => Path.Combine(_folder.FullName, "groups.yaml");

    public async Task InitializeAsync()
    {
        Write(Config(apiKeys: ["sekret-keep", "sekret-doomed"], agentKeys: ["sekret-ws-1", "sekret-ws-2"]));
        var settings = new Dictionary<string, string?>
        {
            ["Synapse:Tenancy:ConfigFile"] = File,
            ["Synapse:Tenancy:ReloadOnSignal"] = "false",
        };
        _first = await TestGateway.StartAsync(settings);
        _second = await TestGateway.StartAsync(settings, join: _first);
        await Eventually.UntilAsync(() => _first.ActiveSiloCount() == 2 && _second.ActiveSiloCount() == 2, TimeSpan.FromSeconds(30), "both silos see each other");
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
        _folder.Delete(recursive: true);
    }

    [Fact]
    public async Task Reloads_UnderStreamingLoad_FailOnlyRevokedKeys_AndApplyOnEverySiloWithinTwoSeconds()
    {
        await using var steadyUpstream = await FakeUpstream.StartAsync("steady", Steady);
        await using var doomedUpstream = await FakeUpstream.StartAsync("doomed", Doomed);
        await using var steadyAgent = TestAgent.Start(_first.WsUrl, steadyUpstream, o => o.WsAuthKey = "sekret-ws-1");
        await using var doomedAgent = TestAgent.Start(_second.WsUrl, doomedUpstream, o => o.WsAuthKey = "sekret-ws-2");
        await Eventually.UntilAsync(
            async () => await ListsAsync(_first, "sekret-keep", Steady) && await ListsAsync(_second, "sekret-keep", Doomed),
            TimeSpan.FromSeconds(20),
            "both agents' models are listed");

        using var stop = new CancellationTokenSource();
        var keep = new ConcurrentQueue<CallOutcome>();
        var doomed = new ConcurrentQueue<CallOutcome>();
        Task[] loops =
        [
            StreamUntilAsync(_first, "sekret-keep", keep, stop.Token),
            StreamUntilAsync(_second, "sekret-keep", keep, stop.Token),
            StreamUntilAsync(_second, "sekret-keep", keep, stop.Token),
            StreamUntilAsync(_first, "sekret-doomed", doomed, stop.Token),
        ];
        await Eventually.UntilAsync(() => keep.Count >= 4 && !doomed.IsEmpty, TimeSpan.FromSeconds(20), "the callers are streaming");

        // 1. A new key works on both silos once the file says so.
        var added = await ApplyAsync(
            Config(apiKeys: ["sekret-keep", "sekret-doomed", "sekret-new"], agentKeys: ["sekret-ws-1", "sekret-ws-2"]),
            async silo => await ModelsStatusAsync(silo, "sekret-new") == HttpStatusCode.OK);

        // 2. A removed key is refused on its next request; its calls in flight finish.
        var removed = await ApplyAsync(
            Config(apiKeys: ["sekret-keep", "sekret-new"], agentKeys: ["sekret-ws-1", "sekret-ws-2"]),
            async silo => await ModelsStatusAsync(silo, "sekret-doomed") == HttpStatusCode.Unauthorized);
        await Eventually.UntilAsync(() => doomed.Any(o => o.Status == HttpStatusCode.Unauthorized), TimeSpan.FromSeconds(5), "the removed key's caller is refused");

        // 3. A broken file changes nothing, and both silos say so.
        var brokenAt = Stopwatch.StartNew();
        Write("groups:\n  - name: alpha\n    ws_auth_keys: [sekret-ws-1]\n    api_keys: [sekret-keep]\n    colour: blue\n");
        await Eventually.UntilAsync(
            async () => await LastReloadAsync(_first) == "invalid" && await LastReloadAsync(_second) == "invalid",
            TimeSpan.FromSeconds(10),
            "both silos report the invalid file");
        var noticed = brokenAt.Elapsed;
        foreach (var silo in new[] { _first, _second })
        {
            Assert.Equal(HttpStatusCode.OK, await ModelsStatusAsync(silo, "sekret-new"));
            Assert.True(await ListsAsync(silo, "sekret-keep", Doomed));
        }

        // 4. Fixed, and an agent key revoked with it: that agent is closed and its model leaves both silos' lists.
        var revoked = await ApplyAsync(
            Config(apiKeys: ["sekret-keep", "sekret-new"], agentKeys: ["sekret-ws-1"]),
            async silo => await LastReloadAsync(silo) == "ok" && !await ListsAsync(silo, "sekret-keep", Doomed));
        Assert.Equal(4, await doomedAgent.Run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(_second.Log.Lines, l => l.Contains("closing (key_revoked)", StringComparison.Ordinal));

        var more = keep.Count + 8;
        await Eventually.UntilAsync(() => keep.Count >= more, TimeSpan.FromSeconds(20), "the callers go on after the last reload");
        await stop.CancelAsync();
        await Task.WhenAll(loops);

        output.WriteLine($"new key in force after {added.TotalMilliseconds:0} ms, removed key refused after {removed.TotalMilliseconds:0} ms, "
            + $"broken file reported after {noticed.TotalMilliseconds:0} ms, revoked agent's model gone after {revoked.TotalMilliseconds:0} ms; "
            + $"{keep.Count} streams on kept keys, {doomed.Count} on the removed one");
        Assert.All(keep, o => Assert.True(o.Status == HttpStatusCode.OK && o.Complete, $"a kept key's stream ended {o}"));
        var doomedOutcomes = doomed.ToArray();
        var firstRefusal = Array.FindIndex(doomedOutcomes, o => o.Status == HttpStatusCode.Unauthorized);
        Assert.All(doomedOutcomes[..firstRefusal], o => Assert.True(o.Status == HttpStatusCode.OK && o.Complete, $"before its removal, the doomed key's stream ended {o}"));
        Assert.All(doomedOutcomes[firstRefusal..], o => Assert.Equal(HttpStatusCode.Unauthorized, o.Status));
        Assert.True(added < Deadline, $"the new key took {added.TotalMilliseconds:0} ms");
        Assert.True(removed < Deadline, $"the removed key took {removed.TotalMilliseconds:0} ms");
        Assert.True(noticed < Deadline, $"the broken file took {noticed.TotalMilliseconds:0} ms to be reported");
        Assert.True(revoked < Deadline, $"the revoked agent's model took {revoked.TotalMilliseconds:0} ms to go");
        Assert.DoesNotContain(_first.Log.Lines.Concat(_second.Log.Lines), l => l.Contains("sekret", StringComparison.Ordinal));
    }

    private static async Task StreamUntilAsync(TestGateway silo, string key, ConcurrentQueue<CallOutcome> outcomes, CancellationToken stop)
    {
        using var client = silo.CreateClient(key);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await ChatCalls.StreamAsync(client, Steady, tokens: 10, delayMs: 20);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                outcomes.Enqueue(new CallOutcome(response.StatusCode, body.Contains("data: [DONE]", StringComparison.Ordinal), null));
                if (response.StatusCode == HttpStatusCode.Unauthorized && outcomes.Count(o => o.Status == HttpStatusCode.Unauthorized) >= 3)
                {
                    // Refused for good: three answers show it, thousands more would only spin.
                    return;
                }
            }
            catch (HttpRequestException ex)
            {
                outcomes.Enqueue(new CallOutcome(null, false, ex.Message));
            }
        }
    }

    /// <summary>Writes <paramref name="content"/> and waits until <paramref name="inForce"/> holds on both silos; how long that took.</summary>
    private async Task<TimeSpan> ApplyAsync(string content, Func<TestGateway, Task<bool>> inForce)
    {
        var clock = Stopwatch.StartNew();
        Write(content);
        await Eventually.UntilAsync(async () => await inForce(_first) && await inForce(_second), TimeSpan.FromSeconds(10), "the change is in force on both silos");
        return clock.Elapsed;
    }

    private void Write(string content)
    {
        var temporary = File + ".tmp";
        System.IO.File.WriteAllText(temporary, content);
        System.IO.File.Move(temporary, File, overwrite: true);
    }

    private static string Config(string[] apiKeys, string[] agentKeys) => $"""
        admin_keys: [sekret-admin]
        groups:
          - name: alpha
            ws_auth_keys: [{string.Join(", ", agentKeys)}]
            api_keys: [{string.Join(", ", apiKeys)}]

        """;

    private static async Task<HttpStatusCode> ModelsStatusAsync(TestGateway silo, string key)
    {
        using var client = silo.CreateClient(key);
        using var response = await client.GetAsync(new Uri("/v1/models", UriKind.Relative));
        return response.StatusCode;
    }

    private static async Task<bool> ListsAsync(TestGateway silo, string key, string model)
    {
        using var client = silo.CreateClient(key);
        using var response = await client.GetAsync(new Uri("/v1/models", UriKind.Relative));
        using var list = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return list.RootElement.GetProperty("data").EnumerateArray().Any(m => m.GetProperty("id").GetString() == model);
    }

    private static async Task<string?> LastReloadAsync(TestGateway silo)
    {
        using var client = silo.CreateClient("sekret-admin");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/status");
        request.Headers.Add("Accept", "application/json");
        using var response = await client.SendAsync(request);
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return status.RootElement.GetProperty("keyGroups").GetProperty("lastReloadOutcome").GetString();
    }

    private sealed record CallOutcome(HttpStatusCode? Status, bool Complete, string? Error);
}
