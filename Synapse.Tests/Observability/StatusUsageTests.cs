using System.Net;
using Microsoft.Playwright;
using Synapse.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Synapse.Tests.Observability;

/// <summary>
/// The status page's usage table: an admin key sees every key's rows (by model, with budgets), any other key only
/// its own; the page asks for the key once and keeps it in sessionStorage.
/// </summary>
[Trait("Category", "Browser")]
public sealed class StatusUsageTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>, IAsyncLifetime
{
    private const string Model = "usage-page-model";
    private KeyGroupsGateway _host = null!;

    private TestGateway Gateway => _host.Gateway;

    public async Task InitializeAsync() => _host = await KeyGroupsGateway.StartAsync(
        """
            admin_keys: [sekret-page-admin]
            groups:
              - name: alpha
                ws_auth_keys: [sekret-page-ws]
                api_keys:
                  - { name: alpha-bot, key: sekret-page-alpha, budget: { tokens: 1000, period: day }, limits: { rpm: 60 } }
              - name: beta
                ws_auth_keys: [sekret-page-ws-beta]
                api_keys: [sekret-page-beta]

            """, Model, "alpha", "sekret-page-ws");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task UsageTable_AdminSeesEveryKey_AnotherKeyOnlyItsOwnRows()
    {
        using var alpha = Gateway.CreateClient("sekret-page-alpha");
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(alpha, Model));

        // Over its rpm (a burst of 1.5): refused, and counted as such.
        Assert.Equal(HttpStatusCode.TooManyRequests, await ChatCalls.PostAsync(alpha, Model));

        await using (var admin = await OpenWithKeyAsync("sekret-page-admin"))
        {
            var row = admin.Page.Locator("#usage-body tr", new() { HasText = "alpha-bot" });
            await Expect(row.Locator("td").Nth(3)).ToHaveTextAsync("1", new() { Timeout = 20_000 });
            await Expect(row.Locator("td").Nth(2)).ToHaveTextAsync(Model);
            await Expect(row.Locator("td").Nth(4)).ToHaveTextAsync("3");
            await Expect(row.Locator("td").Nth(6)).ToHaveTextAsync("1");
            await Expect(row.Locator("td").Nth(7)).ToHaveTextAsync("6 / 1,000 day");
            await Expect(row.Locator("td").Nth(7)).ToHaveAttributeAsync("data-left", "994");
            await Expect(admin.Page.Locator("#usage-body tr", new() { HasText = "beta/key-1" })).ToHaveCountAsync(1);
            await admin.ScreenshotAsync("status-usage-admin.png");
            admin.AssertNoPageErrors();
        }

        await using var own = await OpenWithKeyAsync("sekret-page-alpha");
        await Expect(own.Page.Locator("#usage-body tr", new() { HasText = "alpha-bot" })).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        await Expect(own.Page.Locator("#usage-body tr")).ToHaveCountAsync(1);
        await Expect(own.Page.Locator("#usage-note")).ToHaveTextAsync("1 key");
        own.AssertNoPageErrors();
    }

    private async Task<StatusPageSession> OpenWithKeyAsync(string key)
    {
        var session = await StatusPageSession.OpenAsync(chromium.Browser, Gateway.BaseUrl + "/");
        await session.Page.Locator("#key-input").FillAsync(key);
        await session.Page.Locator("#key-input").PressAsync("Enter");
        await Expect(session.Page.Locator("#usage")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        return session;
    }
}
