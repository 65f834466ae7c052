using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Tests.Infrastructure;
using static Synapse.Tests.Tenancy.KeyGroupClusterFixture;

namespace Synapse.Tests.Tenancy;

/// <summary>
/// Key groups as an attacker holding one group's key would probe them, on both silos of a cluster: what a key
/// lists, what it reaches, what another group's model looks like to it, and what an agent can claim.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class KeyGroupIsolationTests(KeyGroupClusterFixture fixture) : IClassFixture<KeyGroupClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static TheoryData<int> Silos => new() { 0, 1 };

    [Theory]
    [MemberData(nameof(Silos))]
    public async Task ModelList_ShowsOnlyTheCallersGroup_WithinItsKeysAllowList(int silo)
    {
        var gateway = fixture.Silos[silo];

        Assert.Equal([AlphaOnly, Shared], await ModelIdsAsync(gateway, AlphaKey));
        Assert.Equal([BetaOnly, Shared], await ModelIdsAsync(gateway, BetaKey));
        Assert.Equal([Shared], await ModelIdsAsync(gateway, AlphaNarrowKey));
        using var alpha = gateway.CreateClient(AlphaKey);
        var shared = await Json.ReadAsync(await alpha.GetAsync(new Uri($"/v1/models/{Shared}", UriKind.Relative)));
        Assert.Equal(2, shared.GetProperty("client_count").GetInt32());
    }

    [Theory]
    [InlineData(0, AlphaKey, BetaOnly)]
    [InlineData(1, AlphaKey, BetaOnly)]
    [InlineData(0, BetaKey, AlphaOnly)]
    [InlineData(1, AlphaNarrowKey, AlphaOnly)]
    public async Task ModelOutsideTheCallersReach_Answers404_ExactlyAsAModelThatExistsNowhere(int silo, string key, string model)
    {
        using var client = fixture.Silos[silo].CreateClient(key);
        const string nowhere = "no-such-model";

        var (hiddenStatus, hidden) = await ErrorAsync(client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative)));
        var (missingStatus, missing) = await ErrorAsync(client.GetAsync(new Uri($"/v1/models/{nowhere}", UriKind.Relative)));
        var (hiddenCallStatus, hiddenCall) = await ErrorAsync(ChatCalls.PostRawAsync(client, model, tokens: 3, delayMs: 0));
        var (missingCallStatus, missingCall) = await ErrorAsync(ChatCalls.PostRawAsync(client, nowhere, tokens: 3, delayMs: 0));

        Assert.Equal(HttpStatusCode.NotFound, hiddenStatus);
        Assert.Equal(HttpStatusCode.NotFound, hiddenCallStatus);
        Assert.Equal((missingStatus, missing.Replace(nowhere, model, StringComparison.Ordinal)), (hiddenStatus, hidden));
        Assert.Equal((missingCallStatus, missingCall.Replace(nowhere, model, StringComparison.Ordinal)), (hiddenCallStatus, hiddenCall));
        Assert.Contains("model_not_found", hiddenCall, StringComparison.Ordinal);
        Assert.All(fixture.Alpha.Concat(fixture.Beta), u => Assert.DoesNotContain(u.Requests, r => r.Body.Contains(nowhere, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SameModelNameInTwoGroups_IsServedOnlyByTheCallersGroup_FromEitherSilo()
    {
        var alphaBefore = fixture.Alpha.Select(u => u.Requests.Count).ToArray();
        var betaBefore = fixture.Beta.Select(u => u.Requests.Count).ToArray();

        // Calls held open together, from both silos: the model grain spreads them over both of alpha's agents, so
        // each silo's calls reach the agent on the other silo too.
        var calls = fixture.Silos.SelectMany(silo => Enumerable.Range(0, 6).Select(async _ =>
        {
            using var client = silo.CreateClient(AlphaKey);
            return await ChatCalls.PostAsync(client, Shared, delayMs: 100);
        }));
        var statuses = await Task.WhenAll(calls);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(betaBefore, fixture.Beta.Select(u => u.Requests.Count).ToArray());
        var alphaServed = fixture.Alpha.Select((u, i) => u.Requests.Count - alphaBefore[i]).ToArray();
        Assert.Equal(12, alphaServed.Sum());
        Assert.All(alphaServed, served => Assert.True(served > 0, $"alpha's agents served {string.Join(" and ", alphaServed)} calls"));

        using var beta = fixture.Second.CreateClient(BetaKey);
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(beta, Shared));
        Assert.Equal(alphaBefore.Sum() + 12, fixture.Alpha.Sum(u => u.Requests.Count));
    }

    [Fact]
    public async Task KeyWithAnAllowList_ReachesItsModels_AndNothingElseOfItsGroup()
    {
        using var narrow = fixture.First.CreateClient(AlphaNarrowKey);
        var before = fixture.Alpha.Sum(u => u.Requests.Count);

        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(narrow, Shared));
        Assert.Equal(HttpStatusCode.NotFound, await ChatCalls.PostAsync(narrow, AlphaOnly));
        Assert.Equal(before + 1, fixture.Alpha.Sum(u => u.Requests.Count));
    }

    [Fact]
    public async Task AgentIdsCollidingAcrossGroups_EachServesItsOwnGroup()
    {
        // Another test's impostor may still be leaving beta's pool.
        await Eventually.UntilAsync(async () => (await fixture.First.SnapshotAsync(Shared, "beta")).Instances.Length == 2, Timeout, "beta's shared model has its own two instances");
        foreach (var gateway in fixture.Silos)
        {
            var alpha = await gateway.SnapshotAsync(Shared, "alpha");
            var beta = await gateway.SnapshotAsync(Shared, "beta");
            Assert.Equal(["box-1", "box-2"], alpha.Instances.Select(i => i.AgentId).Order(StringComparer.Ordinal));
            Assert.Equal(["alpha-1", "alpha-2"], alpha.Instances.Select(i => i.Name).Order(StringComparer.Ordinal));
            Assert.Equal(["beta-box-2", "box-1"], beta.Instances.Select(i => i.AgentId).Order(StringComparer.Ordinal));
            Assert.Equal(["beta-1", "beta-2"], beta.Instances.Select(i => i.Name).Order(StringComparer.Ordinal));
        }

        Assert.All(fixture.AlphaAgents.Concat(fixture.BetaAgents), a =>
        {
            Assert.Null(a.App.Rejection);
            Assert.True(a.App.ConnectedCount > 0);
        });
        Assert.DoesNotContain(fixture.First.Log.Lines.Concat(fixture.Second.Log.Lines), l => l.Contains("agent_id_in_use", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AgentClaimingAnotherGroupsAgentId_JoinsItsOwnGroup_AndCannotShadowTheOther()
    {
        // box-2 is alpha's, on the second silo; a beta key holder claims it on the first, for the same model name.
        var model = "claim-" + Guid.NewGuid().ToString("N")[..6];
        await using var impostor = await RawAgent.ConnectAsync(fixture.First.WsUrl, BetaAgentKey);
        await impostor.SendHelloAsync(RawAgent.Hello("box-2", Shared, model) with { Name = "impostor", InstanceToken = "impostor-token" });
        Assert.NotNull(await impostor.ReceiveFrameAsync(FrameType.Welcome, Timeout));

        await Eventually.UntilAsync(async () => (await ModelIdsAsync(fixture.Second, BetaKey)).Contains(model), Timeout, "the impostor's model is listed in beta");
        Assert.DoesNotContain(model, await ModelIdsAsync(fixture.Second, AlphaKey));
        var alpha = await fixture.First.SnapshotAsync(Shared, "alpha");
        Assert.Equal(["alpha-1", "alpha-2"], alpha.Instances.Select(i => i.Name).Order(StringComparer.Ordinal));
        var beta = await fixture.First.SnapshotAsync(Shared, "beta");
        Assert.Contains(beta.Instances, i => i.AgentId == "box-2" && i.Name == "impostor");
        Assert.True(fixture.AlphaAgents[1].App.ConnectedCount > 0);

        // Alpha's calls never reach it: twenty calls, every one answered by alpha's upstreams.
        var before = fixture.Alpha.Sum(u => u.Requests.Count);
        using var client = fixture.First.CreateClient(AlphaKey);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, Shared));
        }

        Assert.Equal(before + 20, fixture.Alpha.Sum(u => u.Requests.Count));
    }

    [Fact]
    public async Task HelloNamingAnotherGroup_ChangesNothing_TheKeyDecidesTheGroup()
    {
        var model = "smuggled-" + Guid.NewGuid().ToString("N")[..6];
        var hello = JsonNode.Parse(JsonSerializer.Serialize(RawAgent.Hello("smuggler-" + model, model), ProtocolJsonContext.Default.HelloMessage))!.AsObject();
        hello["group"] = "alpha";
        await using var smuggler = await RawAgent.ConnectAsync(fixture.Second.WsUrl, BetaAgentKey);
        await smuggler.SendAsync(RawFrame(FrameType.Hello, hello.ToJsonString()));
        var answer = await smuggler.ReceiveAsync(Timeout);

        Assert.NotNull(answer);
        if ((FrameType)answer[0] == FrameType.Welcome)
        {
            await Eventually.UntilAsync(async () => (await ModelIdsAsync(fixture.First, BetaKey)).Contains(model), Timeout, "the agent's model is listed in beta, its key's group");
        }

        foreach (var gateway in fixture.Silos)
        {
            Assert.DoesNotContain(model, await ModelIdsAsync(gateway, AlphaKey));
            Assert.Empty((await gateway.SnapshotAsync(model, "alpha")).Instances);
        }
    }

    [Theory]
    [MemberData(nameof(Silos))]
    public async Task Status_ShowsACallerOnlyItsGroup_AndAnAdminKeyEveryGroup(int silo)
    {
        var gateway = fixture.Silos[silo];

        var alpha = await StatusAsync(gateway, AlphaKey);
        var admin = await StatusAsync(gateway, AdminKey);

        Assert.Equal(["alpha"], Groups(alpha, "models"));
        Assert.Equal(["alpha"], Groups(alpha, "agents"));
        Assert.Equal(["alpha", "beta"], Groups(admin, "models"));
        Assert.Equal(["alpha", "beta"], Groups(admin, "agents"));
        // Each silo counts the sockets of alpha's agents only (an agent may hold one on each silo).
        var alphaSockets = alpha.RootElement.GetProperty("agents").EnumerateArray().Sum(a => a.GetProperty("connections").GetArrayLength());
        Assert.Equal(2, alpha.RootElement.GetProperty("agents").GetArrayLength());
        Assert.Equal(alphaSockets, alpha.RootElement.GetProperty("silos").EnumerateArray().Sum(s => s.GetProperty("agents").GetInt32()));
        Assert.DoesNotContain("beta", alpha.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("sekret", admin.RootElement.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_CountEachGroupsModelApart_ByKeyNameNeverByKey()
    {
        using var narrow = fixture.Second.CreateClient(AlphaNarrowKey);
        using var beta = fixture.Second.CreateClient(BetaKey);
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(narrow, Shared));
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(beta, Shared));

        string[] requests = [];
        var scrape = string.Empty;
        await Eventually.UntilAsync(
            async () =>
            {
                scrape = await narrow.GetStringAsync(new Uri("/metrics", UriKind.Relative));
                requests = [.. scrape.Split('\n').Where(l => l.StartsWith("synapse_requests_total{", StringComparison.Ordinal) && l.Contains($"gen_ai_request_model=\"{Shared}\"", StringComparison.Ordinal))];
                return requests.Any(l => l.Contains("synapse_group=\"beta\"", StringComparison.Ordinal));
            },
            Timeout,
            "the scrape counts beta's call");

        Assert.Contains(requests, l => l.Contains("synapse_group=\"alpha\"", StringComparison.Ordinal) && l.Contains("synapse_key=\"alpha-narrow\"", StringComparison.Ordinal));
        Assert.Contains(requests, l => l.Contains("synapse_group=\"beta\"", StringComparison.Ordinal) && l.Contains("synapse_key=\"beta/key-1\"", StringComparison.Ordinal));
        Assert.Contains(scrape.Split('\n'), l => l.StartsWith("synapse_model_instances{", StringComparison.Ordinal) && l.Contains("synapse_group=\"beta\"", StringComparison.Ordinal));
        Assert.DoesNotContain("sekret", scrape, StringComparison.Ordinal);
    }

    private static string[] Groups(JsonDocument status, string list) =>
        [.. status.RootElement.GetProperty(list).EnumerateArray().Select(e => e.GetProperty("group").GetString()!).Distinct().Order(StringComparer.Ordinal)];

    private static async Task<JsonDocument> StatusAsync(TestGateway gateway, string key)
    {
        using var client = gateway.CreateClient(key);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/status");
        request.Headers.Add("Accept", "application/json");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private static async Task<string[]> ModelIdsAsync(TestGateway gateway, string key)
    {
        using var client = gateway.CreateClient(key);
        var list = await Json.ReadAsync(await client.GetAsync(new Uri("/v1/models", UriKind.Relative)));
        return [.. list.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
    }

    private static async Task<(HttpStatusCode Status, string Body)> ErrorAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Frame RawFrame(FrameType type, string json)
    {
        var builder = new FrameBuilder(type, 512);
        var bytes = Encoding.UTF8.GetBytes(json);
        bytes.CopyTo(builder.GetSpan(bytes.Length));
        builder.Advance(bytes.Length);
        return builder.Build();
    }
}
