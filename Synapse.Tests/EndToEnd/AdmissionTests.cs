using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

/// <summary>A gateway with a short queue and short timeouts, to see admission and idle timeouts act.</summary>
public sealed class AdmissionFixture : IAsyncLifetime
{
    public TestGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
    {
        ["Synapse:Balancing:MaxQueueLength"] = "2",
        ["Synapse:Balancing:QueueTimeout"] = "00:00:03",
        ["Synapse:Gateway:IdleTimeout"] = "00:00:02",
        ["Synapse:Gateway:KeepAliveInterval"] = "00:00:00.300",
    });

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

[Trait("Category", "EndToEnd")]
public sealed class AdmissionTests(AdmissionFixture fixture) : IClassFixture<AdmissionFixture>
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Instance_IsNeverSentMoreThanItsCapacity_ExtraRequestsWaitAndSucceed()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o => o.MaxConcurrency = 2);

        using var client = Gateway.CreateClient();
        var calls = Enumerable.Range(0, 4).Select(_ => ChatCalls.PostAsync(client, model, delayMs: 150)).ToArray();

        Assert.All(await Task.WhenAll(calls), status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(2, upstream.PeakActive);
        Assert.Equal(4, upstream.Requests.Count);
    }

    [Fact]
    public async Task AllInstancesBusyAndQueueFull_Answers429WithRetryAfter()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o => o.MaxConcurrency = 1);
        using var client = Gateway.CreateClient();
        var running = KeepBusy(client, model);
        await Eventually.UntilAsync(() => upstream.Active == 1, TimeSpan.FromSeconds(5), "the only slot is taken");
        var queued = Enumerable.Range(0, 2).Select(_ => ChatCalls.PostRawAsync(client, model, tokens: 1, delayMs: 0)).ToArray();
        await Eventually.UntilAsync(async () => (await Gateway.SnapshotAsync(model)).Queued == 2, TimeSpan.FromSeconds(5), "two requests wait");

        using var rejected = await ChatCalls.PostRawAsync(client, model, tokens: 1, delayMs: 0);

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("queue_full", await Json.ReadErrorCodeAsync(rejected));
        Assert.NotNull(rejected.Headers.RetryAfter);
        GC.KeepAlive(running);
        GC.KeepAlive(queued);
    }

    [Fact]
    public async Task AllInstancesBusyForTheWholeQueueTimeout_Answers503WithRetryAfter()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o => o.MaxConcurrency = 1);
        using var client = Gateway.CreateClient();
        var running = KeepBusy(client, model);
        await Eventually.UntilAsync(() => upstream.Active == 1, TimeSpan.FromSeconds(5), "the only slot is taken");

        var waited = Stopwatch.StartNew();
        using var response = await ChatCalls.PostRawAsync(client, model, tokens: 1, delayMs: 0);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("queue_timeout", await Json.ReadErrorCodeAsync(response));
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.InRange(waited.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(10));
        GC.KeepAlive(running);
    }

    [Fact]
    public async Task StreamThatStopsProducing_EndsWithAnIdleTimeoutErrorEventAndFreesTheUpstream()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        using var client = Gateway.CreateClient();
        using var request = Stream(model, ("X-Fake-Tokens", "10"), ("X-Fake-Stall-After", "3"));

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await new SseReader(await response.Content.ReadAsStreamAsync()).ReadAllDataAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, events.Count(e => e.Contains("\"tok", StringComparison.Ordinal)));
        Assert.Equal("idle_timeout", JsonDocument.Parse(events[^1]).RootElement.GetProperty("error").GetProperty("code").GetString());
        await Eventually.UntilAsync(() => upstream.Requests.Single().Aborted, TimeSpan.FromSeconds(5), "the stalled upstream request is cancelled");
    }

    [Fact]
    public async Task LongGenerationThatKeepsProducing_IsNeverCutByTheIdleTimeout()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        using var client = Gateway.CreateClient();
        using var request = Stream(model, ("X-Fake-Tokens", "10"), ("X-Fake-Delay-Ms", "500"));

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await new SseReader(await response.Content.ReadAsStreamAsync()).ReadAllDataAsync();

        Assert.Equal(10, events.Count(e => e.Contains("\"tok", StringComparison.Ordinal)));
        Assert.Equal("[DONE]", events[^1]);
    }

    [Fact]
    public async Task LongWaitForTheFirstToken_KeepsTheCallerAliveWithSseComments()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        using var client = Gateway.CreateClient();
        using var request = Stream(model, ("X-Fake-Tokens", "2"), ("X-Fake-First-Delay-Ms", "1500"));

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var raw = await response.Content.ReadAsStringAsync();

        var firstData = raw.IndexOf("data:", StringComparison.Ordinal);
        Assert.True(firstData > 0, $"{(int)response.StatusCode}: {raw}");
        Assert.Contains(": keepalive\n\n", raw[..firstData], StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonStreamingAnswerThatNeverComes_Answers504AfterTheIdleTimeout()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        using var client = Gateway.CreateClient();

        using var response = await Hang(client, model).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("idle_timeout", await Json.ReadErrorCodeAsync(response));
        await Eventually.UntilAsync(async () => await Gateway.InFlightAsync(model) == 0, TimeSpan.FromSeconds(5), "the slot is released");
    }

    [Fact]
    public async Task SlotFreedByAnIdleTimeout_ServesTheNextRequestAtOnce()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o => o.MaxConcurrency = 1);
        using var client = Gateway.CreateClient();
        using var timedOut = await Hang(client, model).WaitAsync(TimeSpan.FromSeconds(10));

        // The gateway frees the lease as it answers 504; the agent may still be cancelling the upstream call.
        var next = await ChatCalls.PostAsync(client, model, delayMs: 0);

        Assert.Equal(HttpStatusCode.GatewayTimeout, timedOut.StatusCode);
        Assert.Equal(HttpStatusCode.OK, next);
    }

    /// <summary>A stream that keeps producing for ten seconds: it holds its slot without tripping the idle timeout.</summary>
    private static Task<HttpResponseMessage> KeepBusy(HttpClient client, string model) =>
        client.SendAsync(Stream(model, ("X-Fake-Tokens", "100"), ("X-Fake-Delay-Ms", "100")));

    private static Task<HttpResponseMessage> Hang(HttpClient client, string model)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Fake-Hang", "1");
        return client.SendAsync(request);
    }

    private static HttpRequestMessage Stream(string model, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}","stream":true}""", Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return request;
    }
}
