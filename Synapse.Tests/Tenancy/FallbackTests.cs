using System.Net;
using System.Text;
using System.Text.Json;
using Synapse.Tests.Infrastructure;
using static Synapse.Tests.Tenancy.FallbackFixture;

namespace Synapse.Tests.Tenancy;

/// <summary>
/// A gateway on a key-groups file whose group <c>alpha</c> has fallbacks and aliases, a queue of one and a short queue
/// timeout: <see cref="Fallback"/> is served by one agent, <see cref="Primary"/> and <see cref="Lonely"/> by another
/// with one slot each, and <see cref="Gone"/> and <see cref="GoneFallback"/> by none.
/// </summary>
public sealed class FallbackFixture : IAsyncLifetime
{
    public const string Fallback = "fb-8b";
    public const string Primary = "primary-70b";
    public const string Lonely = "lonely-70b";
    public const string Gone = "gone-70b";
    public const string GoneFallback = "gone-8b";
    public const string AlphaKey = "sekret-fb-alpha";
    public const string NarrowKey = "sekret-fb-narrow";
    public const string BetaKey = "sekret-fb-beta";

    private KeyGroupsGateway _host = null!;

    public TestGateway Gateway => _host.Gateway;

    /// <summary>Serves <see cref="Fallback"/>.</summary>
    public FakeUpstream FallbackUpstream => _host.Upstream;

    /// <summary>Serves <see cref="Primary"/> and <see cref="Lonely"/>, one call at a time.</summary>
    public FakeUpstream PrimaryUpstream { get; private set; } = null!;

    private TestAgent PrimaryAgent { get; set; } = null!;

    public async Task InitializeAsync()
    {
        _host = await KeyGroupsGateway.StartAsync(
            $$"""
                groups:
                  - name: alpha
                    ws_auth_keys: [sekret-fb-ws]
                    api_keys:
                      - {{AlphaKey}}
                      - { name: narrow, key: {{NarrowKey}}, models: ["{{Gone}}", "{{Lonely}}"] }
                    aliases: { "gpt-4o": "{{Primary}}", "small": "{{Fallback}}" }
                    fallbacks:
                      "{{Gone}}": ["{{Fallback}}"]
                      "{{Primary}}": ["{{GoneFallback}}", "small"]
                      "{{Lonely}}": ["{{GoneFallback}}"]
                  - name: beta
                    ws_auth_keys: [sekret-fb-ws-beta]
                    api_keys: [{{BetaKey}}]

                """,
            Fallback,
            "alpha",
            "sekret-fb-ws",
            settings: new Dictionary<string, string?>
            {
                ["Synapse:Balancing:MaxQueueLength"] = "1",
                ["Synapse:Balancing:QueueTimeout"] = "00:00:03",
            });
        PrimaryUpstream = await FakeUpstream.StartAsync("primary", Primary, Lonely);
        PrimaryAgent = TestAgent.Start(Gateway.WsUrl, PrimaryUpstream, o =>
        {
            o.WsAuthKey = "sekret-fb-ws";
            o.MaxConcurrency = 1;
        });
        await PrimaryAgent.WaitConnectedAsync();
        foreach (var model in new[] { Primary, Lonely })
        {
            await Eventually.UntilAsync(async () => (await Gateway.SnapshotAsync(model, "alpha")).Instances.Length == 1, TimeSpan.FromSeconds(20), $"{model} is served in alpha");
        }
    }

    public async Task DisposeAsync()
    {
        await PrimaryAgent.DisposeAsync();
        await _host.DisposeAsync();
        await PrimaryUpstream.DisposeAsync();
    }
}

/// <summary>
/// A group's fallbacks at serving time: a model no instance can take (none, queue full, queue timeout) is served by
/// its first fallback that can, marked <c>x-synapse-fallback</c>; never once the caller saw a byte, never outside
/// the caller's allow-list or group; when every fallback refuses, the caller gets the model's own refusal.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class FallbackTests(FallbackFixture fixture) : IClassFixture<FallbackFixture>
{
    private const string Header = "x-synapse-fallback";

    private TestGateway Gateway => fixture.Gateway;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ModelWithoutAgents_IsServedByItsFallback_WithTheHeaderAndTheFallbacksNameUpstream(bool stream)
    {
        using var alpha = Gateway.CreateClient(AlphaKey);

        using var response = stream
            ? await ChatCalls.StreamAsync(alpha, Gone, tokens: 3, delayMs: 0)
            : await ChatCalls.PostRawAsync(alpha, Gone, tokens: 3, delayMs: 0);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fallback, HeaderOf(response));
        Assert.Contains("tok2", body, StringComparison.Ordinal);
        using var sent = JsonDocument.Parse(fixture.FallbackUpstream.Requests.Last().Body);
        Assert.Equal(Fallback, sent.RootElement.GetProperty("model").GetString());
        Assert.Contains(Gateway.Log.Lines, l => l.Contains($"Model {Gone} could not take a call (model_not_found); its fallback {Fallback} serves it", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ModelThatCanServe_IsServedItself_WithoutTheHeader()
    {
        await WaitIdleAsync(Primary);
        var fallbackCalls = fixture.FallbackUpstream.Requests.Count;
        using var alpha = Gateway.CreateClient(AlphaKey);

        using var response = await ChatCalls.PostRawAsync(alpha, Primary, tokens: 3, delayMs: 0);
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(HeaderOf(response));
        Assert.Equal(fallbackCalls, fixture.FallbackUpstream.Requests.Count);
        using var sent = JsonDocument.Parse(fixture.PrimaryUpstream.Requests.Last().Body);
        Assert.Equal(Primary, sent.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task BusyModel_QueueFullAndQueueTimeout_AreServedByTheFirstFallbackThatCan()
    {
        await WaitIdleAsync(Primary);
        using var alpha = Gateway.CreateClient(AlphaKey);
        using var hold = new CancellationTokenSource();
        var busy = KeepBusyAsync(alpha, Primary, hold.Token);
        await Eventually.UntilAsync(() => fixture.PrimaryUpstream.Active == 1, TimeSpan.FromSeconds(10), "the primary's only slot is taken");
        var waiting = ChatCalls.PostRawAsync(alpha, Primary, tokens: 3, delayMs: 0);
        await Eventually.UntilAsync(async () => (await Gateway.SnapshotAsync(Primary, "alpha")).Queued == 1, TimeSpan.FromSeconds(10), "one call waits in the primary's queue");

        using var overflow = await ChatCalls.PostRawAsync(alpha, Primary, tokens: 3, delayMs: 0);
        await overflow.Content.ReadAsStringAsync();
        using var timedOut = await waiting;
        await timedOut.Content.ReadAsStringAsync();
        await hold.CancelAsync();
        await busy;

        // gone-8b comes first in the chain and is served nowhere; "small" is an alias of fb-8b.
        Assert.Equal((HttpStatusCode.OK, Fallback), (overflow.StatusCode, HeaderOf(overflow)));
        Assert.Equal((HttpStatusCode.OK, Fallback), (timedOut.StatusCode, HeaderOf(timedOut)));
        Assert.Contains(Gateway.Log.Lines, l => l.Contains($"Model {Primary} could not take a call (queue_full); its fallback {Fallback} serves it", StringComparison.Ordinal));
        Assert.Contains(Gateway.Log.Lines, l => l.Contains($"Model {Primary} could not take a call (queue_timeout); its fallback {Fallback} serves it", StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.PrimaryUpstream.Requests, r => r.Body.Contains(Fallback, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryFallbackRefusing_AnswersTheModelsOwnRefusal_StatusCodeAndRetryAfter()
    {
        await WaitIdleAsync(Lonely);
        using var alpha = Gateway.CreateClient(AlphaKey);
        using var hold = new CancellationTokenSource();
        var busy = KeepBusyAsync(alpha, Lonely, hold.Token);
        await Eventually.UntilAsync(() => fixture.PrimaryUpstream.Active == 1, TimeSpan.FromSeconds(10), "lonely's only slot is taken");
        var waiting = ChatCalls.PostRawAsync(alpha, Lonely, tokens: 3, delayMs: 0);
        await Eventually.UntilAsync(async () => (await Gateway.SnapshotAsync(Lonely, "alpha")).Queued == 1, TimeSpan.FromSeconds(10), "one call waits in lonely's queue");

        using var overflow = await ChatCalls.PostRawAsync(alpha, Lonely, tokens: 3, delayMs: 0);
        var overflowBody = await overflow.Content.ReadAsStringAsync();
        using var timedOut = await waiting;
        var timedOutBody = await timedOut.Content.ReadAsStringAsync();
        await hold.CancelAsync();
        await busy;

        Assert.Equal(HttpStatusCode.TooManyRequests, overflow.StatusCode);
        Assert.Equal("queue_full", ErrorCode(overflowBody));
        Assert.NotNull(overflow.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, timedOut.StatusCode);
        Assert.Equal("queue_timeout", ErrorCode(timedOutBody));
        Assert.NotNull(timedOut.Headers.RetryAfter);
        Assert.All([overflowBody, timedOutBody], b => Assert.Contains(Lonely, b, StringComparison.Ordinal));
        Assert.All([overflowBody, timedOutBody], b => Assert.DoesNotContain(GoneFallback, b, StringComparison.Ordinal));
        Assert.Null(HeaderOf(overflow));
        Assert.Null(HeaderOf(timedOut));
    }

    [Fact]
    public async Task FallbackOutsideTheCallersAllowList_IsNotUsed_AndTheCallerGetsTheModelsOwn404()
    {
        var fallbackCalls = fixture.FallbackUpstream.Requests.Count;
        using var narrow = Gateway.CreateClient(NarrowKey);
        using var alpha = Gateway.CreateClient(AlphaKey);
        const string nowhere = "no-such-model";

        var (status, body, header) = await CallAsync(narrow, Gone);
        var (missingStatus, missingBody, _) = await CallAsync(alpha, nowhere);

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Null(header);
        Assert.Equal((missingStatus, missingBody.Replace(nowhere, Gone, StringComparison.Ordinal)), (status, body));
        Assert.Equal(fallbackCalls, fixture.FallbackUpstream.Requests.Count);
    }

    [Theory]
    [InlineData(Gone)]
    [InlineData("gpt-4o")]
    [InlineData("small")]
    public async Task FallbackOrAliasOfOneGroup_MeansNothingInAnother_404ExactlyAsAModelThatExistsNowhere(string name)
    {
        var calls = fixture.FallbackUpstream.Requests.Count + fixture.PrimaryUpstream.Requests.Count;
        using var beta = Gateway.CreateClient(BetaKey);
        const string nowhere = "no-such-model";

        var (status, body, header) = await CallAsync(beta, name);
        var (missingStatus, missingBody, _) = await CallAsync(beta, nowhere);

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Null(header);
        Assert.Equal((missingStatus, missingBody.Replace(nowhere, name, StringComparison.Ordinal)), (status, body));
        Assert.Equal(calls, fixture.FallbackUpstream.Requests.Count + fixture.PrimaryUpstream.Requests.Count);
    }

    [Fact]
    public async Task StreamFailingMidway_IsNotSentToAFallback()
    {
        await WaitIdleAsync(Primary);
        var fallbackCalls = fixture.FallbackUpstream.Requests.Count;
        var primaryCalls = fixture.PrimaryUpstream.Requests.Count;
        using var alpha = Gateway.CreateClient(AlphaKey);
        using var request = StreamRequest(Primary, ("X-Fake-Tokens", "10"), ("X-Fake-Delay-Ms", "50"), ("X-Fake-Crash-After", "3"));

        using var response = await alpha.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await new SseReader(await response.Content.ReadAsStreamAsync()).ReadAllDataAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {string.Join(" | ", events)}");
        Assert.Null(HeaderOf(response));
        Assert.InRange(events.Count(e => e.Contains("\"tok", StringComparison.Ordinal)), 1, 3);
        Assert.True(JsonDocument.Parse(events[^1]).RootElement.TryGetProperty("error", out _), $"the stream ends with an error event: {events[^1]}");
        Assert.Equal(fallbackCalls, fixture.FallbackUpstream.Requests.Count);
        Assert.Equal(primaryCalls + 1, fixture.PrimaryUpstream.Requests.Count);
    }

    [Fact]
    public async Task AliasAndFallback_ShowTheRequestedAndTheServedNameInTheMetrics()
    {
        await WaitIdleAsync(Primary);
        using var alpha = Gateway.CreateClient(AlphaKey);
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(alpha, "gpt-4o"));
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(alpha, Gone));
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(alpha, Fallback));

        string[] lines = [];
        bool Has(string metric, params string[] labels) =>
            lines.Any(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && labels.All(label => l.Contains(label, StringComparison.Ordinal)));
        await Eventually.UntilAsync(
            async () =>
            {
                lines = (await alpha.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n');
                return Has("synapse_fallbacks_total");
            },
            TimeSpan.FromSeconds(10),
            "the scrape counts a fallback");

        Assert.True(Has("synapse_requests_total", $"gen_ai_request_model=\"{Primary}\"", "synapse_requested_model=\"gpt-4o\"", "synapse_fallback=\"false\""), "an alias call shows both names");
        Assert.True(Has("synapse_requests_total", $"gen_ai_request_model=\"{Fallback}\"", $"synapse_requested_model=\"{Gone}\"", "synapse_fallback=\"true\""), "a fallback call shows both names");
        Assert.True(Has("synapse_requests_total", $"gen_ai_request_model=\"{Fallback}\"", $"synapse_requested_model=\"{Fallback}\"", "synapse_fallback=\"false\""), "a plain call shows its name twice");
        Assert.True(Has("synapse_fallbacks_total", $"gen_ai_request_model=\"{Gone}\"", $"synapse_fallback_model=\"{Fallback}\"", "synapse_fallback_reason=\"model_not_found\"", "synapse_group=\"alpha\""), "the fallback is counted");
    }

    private static string? HeaderOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues(Header, out var values) ? string.Join(",", values) : null;

    private static string? ErrorCode(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString();

    private static async Task<(HttpStatusCode Status, string Body, string? Header)> CallAsync(HttpClient client, string model)
    {
        using var response = await ChatCalls.PostRawAsync(client, model, tokens: 3, delayMs: 0);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), HeaderOf(response));
    }

    /// <summary>Holds the model's only slot with a long stream until <paramref name="release"/> is cancelled.</summary>
    private static async Task KeepBusyAsync(HttpClient client, string model, CancellationToken release)
    {
        using var request = StreamRequest(model, ("X-Fake-Tokens", "600"), ("X-Fake-Delay-Ms", "100"));
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, release);
            await response.Content.CopyToAsync(Stream.Null, release);
        }
        catch (Exception) when (release.IsCancellationRequested)
        {
            // Let go: the gateway cancels the call upstream and frees the slot.
        }
    }

    /// <summary>Waits until no call holds or waits for <paramref name="model"/> (a previous test's hold was let go).</summary>
    private async Task WaitIdleAsync(string model) =>
        await Eventually.UntilAsync(
            async () => fixture.PrimaryUpstream.Active == 0 && await Gateway.SnapshotAsync(model, "alpha") is { Queued: 0 } snapshot && snapshot.Instances.All(i => i.InFlight == 0),
            TimeSpan.FromSeconds(20),
            $"{model} is idle");

    private static HttpRequestMessage StreamRequest(string model, params (string Name, string Value)[] headers)
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
