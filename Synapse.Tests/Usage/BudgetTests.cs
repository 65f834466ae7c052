using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Synapse.Grains.Usage;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Usage;

/// <summary>
/// A key's token budget: spent, it answers 429 <c>insufficient_quota</c> until its period renews, across the
/// boundary of a UTC day (the usage clock injected; Orleans keeps the real one).
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class BudgetTests : IAsyncLifetime
{
    private const string Model = "budget-model";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 23, 58, 0, TimeSpan.Zero));
    private KeyGroupsGateway _host = null!;

    private TestGateway Gateway => _host.Gateway;

    public async Task InitializeAsync() => _host = await KeyGroupsGateway.StartAsync(
        """
            groups:
              - name: team
                ws_auth_keys: [sekret-budget-ws]
                api_keys:
                  - { name: capped, key: sekret-budget-capped, budget: { tokens: 40, period: day } }
                  - sekret-budget-free

            """, Model, "team", "sekret-budget-ws", configure: b => b.Services.AddKeyedSingleton<TimeProvider>(UsageOptions.ClockKey, _clock));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task SpentBudget_Answers429InsufficientQuota_UntilTheDayRollsOver_OtherKeysUnaffected()
    {
        using var capped = Gateway.CreateClient("sekret-budget-capped");
        using var free = Gateway.CreateClient("sekret-budget-free");

        // 3 prompt + 15 completion tokens a call: the third call finds 36 of 40 spent and may still go; one after it may not.
        HttpResponseMessage? refused = null;
        var served = 0;
        await Eventually.UntilAsync(
            async () =>
            {
                var response = await ChatCalls.PostRawAsync(capped, Model, tokens: 15, delayMs: 0);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    served++;
                    response.Dispose();
                    return false;
                }

                refused = response;
                return true;
            },
            TimeSpan.FromSeconds(15),
            "the capped key is refused");

        using (refused)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused!.StatusCode);
            Assert.Equal("insufficient_quota", await Json.ReadErrorCodeAsync(refused));
            Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 100, 120);
        }

        // Refused once its spend reached the budget, give or take the calls whose counts were still on their way.
        Assert.InRange(served, 3, 5);
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(free, Model));

        _clock.Advance(TimeSpan.FromMinutes(3));
        await Eventually.UntilAsync(async () => await ChatCalls.PostAsync(capped, Model) == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "the capped key is served on the new day");
    }
}
