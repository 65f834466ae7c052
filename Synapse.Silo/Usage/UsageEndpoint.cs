using System.Text.Json;
using System.Text.Json.Serialization;
using Synapse.Grains.Usage;
using Synapse.Silo.Api.Auth;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Tenancy;

namespace Synapse.Silo.Usage;

/// <summary>
/// <c>GET /usage</c>: calls and tokens this minute, today (UTC) and in the budget period, cluster-wide. An admin key
/// sees every key and group; any other key sees only itself. Counts reach the grains once a second, so a call that
/// just ended may be missing for that long.
/// </summary>
internal static class UsageEndpoint
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static async Task GetAsync(HttpContext context)
    {
        var caller = ApiCallers.Authenticate(context);
        if (caller is null)
        {
            await OpenAIError.Unauthorized(context);
            return;
        }

        var services = context.RequestServices;
        var grains = services.GetRequiredService<IGrainFactory>();
        var config = services.GetRequiredService<TenancyConfigSource>().Current;
        var now = services.GetRequiredKeyedService<TimeProvider>(UsageOptions.ClockKey).GetUtcNow();
        var callers = caller.IsAdmin ? config.GroupCallers.ToArray() : [caller];
        var groups = caller.IsAdmin ? config.Groups.ToArray() : [];
        var keys = await Task.WhenAll(callers.Select(async c =>
            Entry(c.KeyName, c.Group?.Name, c.Budget, await grains.GetGrain<IUsageGrain>(UsageKey.ForKey(c.KeyName)).Get(c.Budget?.UsagePeriod), now)));
        var groupEntries = await Task.WhenAll(groups.Select(async g =>
            Entry(g.Name, null, g.Budget, await grains.GetGrain<IUsageGrain>(UsageKey.ForGroup(g.Name)).Get(g.Budget?.UsagePeriod), now)));

        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, new UsageDocument(now, keys, caller.IsAdmin ? groupEntries : null), Json, context.RequestAborted);
    }

    private static UsageEntry Entry(string name, string? group, TokenBudget? budget, UsageReport report, DateTimeOffset now) => new(
        name,
        group,
        report.Minute,
        report.Day,
        report.DayByModel,
        budget is null ? null : new BudgetEntry(
            budget.Tokens,
            budget.UsagePeriod,
            budget.PeriodStart(now),
            budget.PeriodEnd(now),
            report.PeriodTotals.Tokens,
            Math.Max(0, budget.Tokens - report.PeriodTotals.Tokens),
            report.PeriodTotals.Unmetered));

    private sealed record UsageDocument(DateTimeOffset GeneratedAt, UsageEntry[] Keys, UsageEntry[]? Groups)
    {
        public string Object => "usage";
    }

    private sealed record UsageEntry(string Name, string? Group, UsageTotals Minute, UsageTotals Today, IReadOnlyDictionary<string, UsageTotals> TodayByModel, BudgetEntry? Budget);

    private sealed record BudgetEntry(long Tokens, UsagePeriod Period, DateTimeOffset Start, DateTimeOffset End, long Spent, long Left, long UnmeteredRequests);
}
