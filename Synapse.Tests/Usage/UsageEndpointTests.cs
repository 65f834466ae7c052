using System.Net;
using System.Text.Json;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Usage;

/// <summary>
/// <c>GET /usage</c> on a gateway with two key groups: each key's calls and tokens, exactly as the upstream reported
/// them (streams included), seen by the key itself; every key and group seen by an admin key; a budget's spent and left.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class UsageEndpointTests : IAsyncLifetime
{
    private const string AlphaKey = "sekret-usage-alpha";
    private const string BudgetedKey = "sekret-usage-budgeted";
    private const string BetaKey = "sekret-usage-beta";
    private const string AdminKey = "sekret-usage-admin";
    private const string Model = "usage-model";

    private KeyGroupsGateway _host = null!;

    private TestGateway Gateway => _host.Gateway;

    public async Task InitializeAsync() => _host = await KeyGroupsGateway.StartAsync(
        $"""
            admin_keys: [{AdminKey}]
            groups:
              - name: alpha
                ws_auth_keys: [sekret-usage-ws-alpha]
                api_keys:
                  - {AlphaKey}
                  - {"{"} name: budgeted, key: {BudgetedKey}, budget: {"{"} tokens: 1000, period: day {"}"} {"}"}
                budget: {"{"} tokens: 50000, period: month {"}"}
              - name: beta
                ws_auth_keys: [sekret-usage-ws-beta]
                api_keys: [{BetaKey}]

            """, Model, "alpha", "sekret-usage-ws-alpha");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Usage_CountsEachKeysCallsAndTokens_ShowingAKeyOnlyItself_AndAnAdminEveryKeyAndGroup()
    {
        using var alpha = Gateway.CreateClient(AlphaKey);
        using var budgeted = Gateway.CreateClient(BudgetedKey);
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(alpha, Model));
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(alpha, Model));
        using (var stream = await ChatCalls.StreamAsync(alpha, Model, tokens: 5, delayMs: 0))
        {
            Assert.Contains("[DONE]", await stream.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var answer = await ChatCalls.PostRawAsync(budgeted, Model, tokens: 40, delayMs: 0))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        // Two answers of 3 tokens and a stream of 5 (its usage asked for by the gateway), each with a 3-token prompt.
        var own = await UntilAsync(AlphaKey, u => Key(u, "alpha/key-1") is { } k && k.GetProperty("today").GetProperty("requests").GetInt64() == 3);
        var today = Key(own, "alpha/key-1")!.Value.GetProperty("today");
        Assert.Equal(9, today.GetProperty("inputTokens").GetInt64());
        Assert.Equal(11, today.GetProperty("outputTokens").GetInt64());
        Assert.Equal(0, today.GetProperty("unmetered").GetInt64());
        Assert.Equal(3, Key(own, "alpha/key-1")!.Value.GetProperty("todayByModel").GetProperty(Model).GetProperty("requests").GetInt64());
        Assert.Single(own.GetProperty("keys").EnumerateArray());
        Assert.False(own.TryGetProperty("groups", out _));

        var admin = await UntilAsync(AdminKey, u => Key(u, "budgeted") is { } k && k.GetProperty("today").GetProperty("requests").GetInt64() == 1);
        Assert.Equal(["alpha/key-1", "beta/key-1", "budgeted"], admin.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        var budget = Key(admin, "budgeted")!.Value.GetProperty("budget");
        Assert.Equal(1000, budget.GetProperty("tokens").GetInt64());
        Assert.Equal("day", budget.GetProperty("period").GetString());
        Assert.Equal(43, budget.GetProperty("spent").GetInt64());
        Assert.Equal(957, budget.GetProperty("left").GetInt64());
        var groups = admin.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("name").GetString()!);
        Assert.Equal(4, groups["alpha"].GetProperty("today").GetProperty("requests").GetInt64());
        Assert.Equal(9 + 11 + 43, groups["alpha"].GetProperty("budget").GetProperty("spent").GetInt64());
        Assert.Equal(0, groups["beta"].GetProperty("today").GetProperty("requests").GetInt64());

        var beta = await GetAsync(BetaKey);
        Assert.Equal("beta/key-1", Assert.Single(beta.GetProperty("keys").EnumerateArray()).GetProperty("name").GetString());
        Assert.DoesNotContain("sekret", admin.GetRawText(), StringComparison.Ordinal);

        using var anonymous = Gateway.CreateClient();
        using var refused = await anonymous.GetAsync(new Uri("/usage", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    private static JsonElement? Key(JsonElement usage, string name)
    {
        foreach (var key in usage.GetProperty("keys").EnumerateArray())
        {
            if (key.GetProperty("name").GetString() == name)
            {
                return key;
            }
        }

        return null;
    }

    private async Task<JsonElement> UntilAsync(string key, Func<JsonElement, bool> condition)
    {
        JsonElement usage = default;
        await Eventually.UntilAsync(async () => condition(usage = await GetAsync(key)), TimeSpan.FromSeconds(10), "the usage is counted");
        return usage;
    }

    private async Task<JsonElement> GetAsync(string key)
    {
        using var client = Gateway.CreateClient(key);
        using var response = await client.GetAsync(new Uri("/usage", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }
}
