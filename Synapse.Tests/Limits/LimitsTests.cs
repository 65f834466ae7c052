using System.ClientModel;
using System.Net;
using OpenAI;
using OpenAI.Chat;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Limits;

/// <summary>
/// Per-key and per-group limits on one gateway: requests per minute, tokens per minute and requests in flight,
/// refused with OpenAI's 429 and headers, which the OpenAI SDK's own retries follow.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class LimitsTests : IAsyncLifetime
{
    private const string Model = "limits-model";
    private KeyGroupsGateway _host = null!;

    private TestGateway Gateway => _host.Gateway;

    public async Task InitializeAsync() => _host = await KeyGroupsGateway.StartAsync(
        """
            groups:
              - name: team
                ws_auth_keys: [sekret-limits-ws]
                api_keys:
                  - { name: slow, key: sekret-limits-rpm, limits: { rpm: 60 } }
                  - { name: sdk, key: sekret-limits-sdk, limits: { rpm: 60 } }
                  - { name: narrow, key: sekret-limits-parallel, limits: { max_parallel: 2 } }
                  - { name: thrifty, key: sekret-limits-tpm, limits: { tpm: 600 } }
                  - sekret-limits-free
              - name: grouped
                ws_auth_keys: [sekret-limits-ws-2]
                api_keys: [sekret-limits-grouped-1, sekret-limits-grouped-2]
                limits: { max_parallel: 1 }

            """, Model, "team", "sekret-limits-ws", agentConcurrency: 32);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task RequestsPerMinute_OverTheBurst_Answers429Requests_WithOpenAIsHeaders()
    {
        using var slow = Gateway.CreateClient("sekret-limits-rpm");

        using var first = await ChatCalls.PostRawAsync(slow, Model, tokens: 3, delayMs: 0);
        using var second = await ChatCalls.PostRawAsync(slow, Model, tokens: 3, delayMs: 0);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("60", Header(first, "x-ratelimit-limit-requests"));
        Assert.NotNull(Header(first, "x-ratelimit-remaining-requests"));
        Assert.EndsWith("s", Header(first, "x-ratelimit-reset-requests"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("rate_limit_exceeded", await Json.ReadErrorCodeAsync(second));
        var error = (await Json.ReadAsync(second)).GetProperty("error");
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.DoesNotContain("sekret", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.InRange(second.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 2);
        Assert.Equal("60", Header(second, "x-ratelimit-limit-requests"));
        Assert.Equal("0", Header(second, "x-ratelimit-remaining-requests"));

        var refusals = string.Empty;
        await Eventually.UntilAsync(
            async () => (refusals = await slow.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Contains("synapse_reason=\"rate_limited\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10),
            "the refusal is counted");
        Assert.Contains(refusals.Split('\n'), l => l.StartsWith("synapse_requests_refused_total{", StringComparison.Ordinal) && l.Contains("synapse_key=\"slow\"", StringComparison.Ordinal) && l.Contains("synapse_group=\"team\"", StringComparison.Ordinal));

        using var free = Gateway.CreateClient("sekret-limits-free");
        using var unlimited = await ChatCalls.PostRawAsync(free, Model, tokens: 3, delayMs: 0);
        Assert.Equal(HttpStatusCode.OK, unlimited.StatusCode);
        Assert.Null(Header(unlimited, "x-ratelimit-limit-requests"));
    }

    [Fact]
    public async Task OpenAISdk_OverItsRequestsPerMinute_RetriesOnItsOwn_AndSucceeds()
    {
        var client = new ChatClient(Model, new ApiKeyCredential("sekret-limits-sdk"), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseUrl + "/v1") });

        // One a second: the burst goes to the first call, the next two each wait for their turn inside the SDK.
        for (var i = 0; i < 3; i++)
        {
            ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("hi")]);
            Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        }
    }

    [Fact]
    public async Task MaxParallel_HoldsTheCallsInFlight_AndFreesTheSlotsWhenTheyEnd()
    {
        using var narrow = Gateway.CreateClient("sekret-limits-parallel");
        var held = new List<HttpResponseMessage>();
        for (var i = 0; i < 2; i++)
        {
            var stream = await ChatCalls.StreamAsync(narrow, Model, tokens: 400, delayMs: 10);
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            held.Add(stream);
        }

        using (var third = await ChatCalls.PostRawAsync(narrow, Model, tokens: 3, delayMs: 0))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
            Assert.Equal("rate_limit_exceeded", await Json.ReadErrorCodeAsync(third));
        }

        held.ForEach(h => h.Dispose());
        await Eventually.UntilAsync(async () => await ChatCalls.PostAsync(narrow, Model) == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "a slot is free again");
    }

    [Fact]
    public async Task GroupLimit_AppliesToAllItsKeysTogether()
    {
        await using var upstream = await FakeUpstream.StartAsync("grouped", Model);
        await using var agent = TestAgent.Start(Gateway.WsUrl, upstream, o => o.WsAuthKey = "sekret-limits-ws-2");
        await Eventually.UntilAsync(async () => (await Gateway.SnapshotAsync(Model, "grouped")).Instances.Length == 1, TimeSpan.FromSeconds(20), "the model is served in the second group");
        using var one = Gateway.CreateClient("sekret-limits-grouped-1");
        using var two = Gateway.CreateClient("sekret-limits-grouped-2");

        using var stream = await ChatCalls.StreamAsync(one, Model, tokens: 400, delayMs: 10);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, await ChatCalls.PostAsync(two, Model));
    }

    [Fact]
    public async Task TokensPerMinute_Spent_Answers429Tokens_UntilTheBucketRefills()
    {
        using var thrifty = Gateway.CreateClient("sekret-limits-tpm");

        // 3 + 60 tokens against 600 a minute (a bucket of 15): it takes the bucket to -48, about 5 s of refill (more if
        // the calls probing for the refusal were admitted before this silo learnt the level).
        Assert.Equal(HttpStatusCode.OK, (await ChatCalls.PostRawAsync(thrifty, Model, tokens: 60, delayMs: 0)).StatusCode);
        HttpResponseMessage? refused = null;
        await Eventually.UntilAsync(
            async () =>
            {
                var response = await ChatCalls.PostRawAsync(thrifty, Model, tokens: 1, delayMs: 0);
                refused = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
                return refused is not null;
            },
            TimeSpan.FromSeconds(5),
            "the spent tokens are charged");

        var error = (await Json.ReadAsync(refused!)).GetProperty("error");
        Assert.Equal("tokens", error.GetProperty("type").GetString());
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("600", Header(refused!, "x-ratelimit-limit-tokens"));
        Assert.InRange(refused!.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 15);
        await Eventually.UntilAsync(async () => await ChatCalls.PostAsync(thrifty, Model) == HttpStatusCode.OK, TimeSpan.FromSeconds(15), "the bucket refilled");
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;
}
