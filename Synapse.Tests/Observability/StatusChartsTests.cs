using System.Globalization;
using Microsoft.Playwright;
using Synapse.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Synapse.Tests.Observability;

/// <summary>
/// The status page's traffic charts and first-run guide in a real browser against real gateways and agents. What a
/// chart drew is read from the data attributes of its paths (see charts.js), not from pixels.
/// </summary>
[Collection(GatewayCollection.Name)]
[Trait("Category", "Browser")]
public sealed class StatusChartsTests(GatewayFixture fixture, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Charts_TrafficThroughTwoModels_DrawEveryChartPerModelAndForTheCluster()
    {
        var fast = GatewayFixture.UniqueModel("fast");
        var slow = GatewayFixture.UniqueModel("slow");
        await using var upstream = await FakeUpstream.StartAsync("u1", fast, slow);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, fast, o => o.MaxConcurrency = 1);
        await TestAgent.WaitForModelAsync(Gateway, slow, expectedInstances: 1);
        await using var session = await StatusPageSession.OpenAsync(chromium.Browser, Gateway.BaseUrl + "/");
        var page = session.Page;
        await Expect(page.Locator("#traffic")).ToHaveAttributeAsync("data-state", "live");
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");

        using var client = Gateway.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(200, await ChartTraffic.SendAsync(client, fast, stream: true, tokens: 10, firstDelayMs: 20));
        }

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(200, await ChartTraffic.SendAsync(client, slow, stream: false, tokens: 7));
        }

        Assert.Equal(500, await ChartTraffic.SendAsync(client, slow, stream: false, tokens: 7, failWith: 500));

        // Three 3-second streams at once to an agent that takes one at a time: two wait in the model's queue.
        var queued = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ChartTraffic.SendAsync(client, fast, stream: true, tokens: 30, tokenDelayMs: 100)));
        Assert.All(queued, status => Assert.Equal(200, status));

        await page.Locator("#scope").SelectOptionAsync(fast);
        await Expect(page.Locator("#traffic-note")).ToContainTextAsync(fast);
        await Expect(Line(page, "requests", "requests")).ToHaveAttributeAsync("data-sum", "8");
        await Expect(Line(page, "tokens", "outputTokens")).ToHaveAttributeAsync("data-sum", "140");
        await Expect(Line(page, "errors", "errors")).ToHaveAttributeAsync("data-sum", "0");
        await Expect(Line(page, "queue", "queue")).ToHaveAttributeAsync("data-max", "2");
        await Expect(Line(page, "ttft", "timeToFirstTokenP50Ms")).Not.ToHaveAttributeAsync("data-points", "0");
        await Expect(Line(page, "ttft", "timeToFirstTokenP95Ms")).Not.ToHaveAttributeAsync("data-points", "0");

        // The queued calls waited seconds for their first token, and that is what they count as.
        Assert.True(await NumberAsync(Line(page, "ttft", "timeToFirstTokenP95Ms"), "data-max") > 1_000);
        await AssertDrawnAsync(page);

        await page.Locator("#scope").SelectOptionAsync(slow);
        await Expect(Line(page, "requests", "requests")).ToHaveAttributeAsync("data-sum", "5");
        await Expect(Line(page, "errors", "errors")).ToHaveAttributeAsync("data-sum", "1");
        await Expect(Line(page, "tokens", "outputTokens")).ToHaveAttributeAsync("data-sum", "28");
        await Expect(Line(page, "queue", "queue")).ToHaveAttributeAsync("data-max", "0");
        await Expect(Line(page, "ttft", "timeToFirstTokenP50Ms")).Not.ToHaveAttributeAsync("data-points", "0");
        await AssertDrawnAsync(page);

        // The whole cluster counts both models (and whatever earlier tests sent through this gateway).
        await page.Locator("#scope").SelectOptionAsync(string.Empty);
        await Expect(page.Locator("#traffic-note")).ToContainTextAsync("whole cluster");
        await Eventually.UntilAsync(async () => await NumberAsync(Line(page, "requests", "requests"), "data-sum") >= 13, TimeSpan.FromSeconds(10), "the cluster chart counts both models' calls");
        Assert.True(await NumberAsync(Line(page, "errors", "errors"), "data-sum") >= 1);

        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page was reloaded");
        session.AssertNoPageErrors();
    }

    [Fact]
    public async Task Charts_Keyboard_ChoosesTheRangeAndReadsValuesSecondBySecond()
    {
        await using var session = await StatusPageSession.OpenAsync(chromium.Browser, Gateway.BaseUrl + "/");
        var page = session.Page;
        await Expect(page.Locator("#traffic")).ToHaveAttributeAsync("data-state", "live");

        // From the model selector, Tab walks the range buttons; Enter picks one.
        await page.Locator("#scope").FocusAsync();
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("900", await page.EvaluateAsync<string>("() => document.activeElement.dataset.range"));
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#traffic [data-range='60']")).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(page.Locator("#traffic [data-range='900']")).ToHaveAttributeAsync("aria-pressed", "false");

        // A chart takes the focus; arrows move a cursor and the readout names the second under it.
        var chart = page.Locator("[data-chart='requests']");
        await chart.Locator(".chart-plot").FocusAsync();
        await page.Keyboard.PressAsync("ArrowLeft");
        await Expect(chart).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-cursor"));
        await Expect(chart.Locator(".chart-readout")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d\d:\d\d:\d\d · \d"));
        await Expect(chart.Locator("line.cursor")).ToHaveAttributeAsync("visibility", "visible");
        await page.Keyboard.PressAsync("Escape");
        await Expect(chart).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-cursor"));

        // The choice of range outlives a reload (session storage).
        await page.ReloadAsync();
        await Expect(page.Locator("#traffic [data-range='60']")).ToHaveAttributeAsync("aria-pressed", "true");
        session.AssertNoPageErrors();
    }

    [Fact]
    public async Task FirstRun_NoAgent_ShowsTheCommandForTheAddressThePageWasOpenedAtUntilAnAgentConnects()
    {
        const string WsKey = "ws-key-never-on-the-page-7f3a";
        var binary = Path.GetTempFileName(); // any file: the gateway only hands it out
        try
        {
            await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
            {
                ["Synapse:Gateway:WsAuthKey"] = WsKey,
                ["Synapse:Gateway:ClientBinary"] = binary,
            });
            var port = new Uri(gateway.BaseUrl).Port.ToString(CultureInfo.InvariantCulture);
            await using var session = await StatusPageSession.OpenAsync(chromium.Browser, $"http://127.0.0.1:{port}/", permissions: ["clipboard-read", "clipboard-write"]);
            var page = session.Page;

            var command = $"curl -fsSL http://127.0.0.1:{port}/run | bash -s -- --upstream http://127.0.0.1:8000 --ws-auth-key '…'";
            await Expect(page.Locator("#first-run")).ToBeVisibleAsync();
            await Expect(page.Locator("#run-command")).ToHaveTextAsync(command);
            await Expect(page.Locator("#ws-key-note")).ToBeVisibleAsync();
            await Expect(page.Locator("#no-binaries")).ToBeHiddenAsync();
            await Expect(page.Locator("#sdk-snippet")).ToContainTextAsync($"base_url=\"http://127.0.0.1:{port}/v1\"");
            Assert.DoesNotContain(WsKey, await page.ContentAsync(), StringComparison.Ordinal);

            var copy = page.Locator("#run-block button.copy");
            await copy.ClickAsync();
            await Expect(copy).ToHaveTextAsync("Copied");
            Assert.Equal(command, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
            await session.ScreenshotAsync("status-first-run.png");

            // The same gateway opened under another name hands out that name.
            await using var byName = await StatusPageSession.OpenAsync(chromium.Browser, $"http://localhost:{port}/");
            await Expect(byName.Page.Locator("#run-command")).ToHaveTextAsync(command.Replace("127.0.0.1:" + port, "localhost:" + port, StringComparison.Ordinal));

            // Without agent binaries /run cannot install anything: the page says how to get them.
            File.Delete(binary);
            await Expect(page.Locator("#no-binaries")).ToBeVisibleAsync();
            await Expect(page.Locator("#no-binaries")).ToContainTextAsync("make all");
            await Expect(page.Locator("#run-block")).ToBeHiddenAsync();
            await Expect(page.Locator("#source-command")).ToHaveTextAsync(
                $"dotnet run --project Synapse.Client -- --upstream http://127.0.0.1:8000 --server-url ws://127.0.0.1:{port}/ws --ws-auth-key '…'");

            // An agent connects: the guide goes from both pages, without a reload.
            var model = GatewayFixture.UniqueModel();
            await using var upstream = await FakeUpstream.StartAsync("u1", model);
            await using var agent = TestAgent.Start(gateway.WsUrl, upstream, o => o.WsAuthKey = WsKey);
            await Expect(page.Locator("#first-run")).ToBeHiddenAsync();
            await Expect(byName.Page.Locator("#first-run")).ToBeHiddenAsync();
            await Expect(page.Locator($"tr.model-row[data-model='{model}']")).ToBeVisibleAsync();
            session.AssertNoPageErrors();
            byName.AssertNoPageErrors();
        }
        finally
        {
            File.Delete(binary);
        }
    }

    /// <summary>Two silos, two models, three agents and a minute of uneven traffic with a few failures: the charts an operator looks at.</summary>
    [Fact]
    public async Task Charts_UnderTraffic_ScreenshotsForReview()
    {
        var settings = new Dictionary<string, string?> { ["Synapse:Agents:HeartbeatInterval"] = "00:00:01" };
        await using var gateway = await TestGateway.StartAsync(settings);
        await using var second = await TestGateway.StartAsync(settings, join: gateway);
        const string Llama = "llama-3.1-8b-instruct";
        const string Qwen = "qwen2.5-coder-7b";
        await using var big = await FakeUpstream.StartAsync("big", Llama, Qwen);
        await using var small = await FakeUpstream.StartAsync("small", Llama);
        await using var agent1 = TestAgent.Start([gateway.WsUrl, second.WsUrl], big.Url, o => { o.Name = "gpu-a100-01"; o.MaxConcurrency = 6; });
        await using var agent2 = TestAgent.Start(second.WsUrl, small, o => { o.Name = "gpu-l4-02"; o.MaxConcurrency = 2; });
        await TestAgent.WaitForModelAsync(gateway, Llama, expectedInstances: 2);
        await TestAgent.WaitForModelAsync(gateway, Qwen, expectedInstances: 1);

        await using var session = await StatusPageSession.OpenAsync(chromium.Browser, gateway.BaseUrl + "/", width: 1280, height: 900);
        var page = session.Page;
        await page.Locator("#traffic [data-range='60']").ClickAsync();

        // About 50 s of traffic on both silos whose rate swells and ebbs, with time to first token varying and a few failures.
        using var first = gateway.CreateClient();
        using var other = second.CreateClient();
        var random = new Random(18);
        var calls = new List<Task<int>>();
        var started = DateTime.UtcNow;
        for (var tick = 0; DateTime.UtcNow - started < TimeSpan.FromSeconds(50); tick++)
        {
            var wave = 1 + Math.Sin(tick / 12.0);
            for (var i = 0; i < 1 + (int)(wave * 3); i++)
            {
                var model = random.Next(3) == 0 ? Qwen : Llama;
                var fail = random.Next(40) == 0 ? 503 : (int?)null;
                calls.Add(ChartTraffic.SendAsync(random.Next(2) == 0 ? first : other, model, stream: true,
                    tokens: 10 + random.Next(40), firstDelayMs: 20 + (int)(wave * 60) + random.Next(40), tokenDelayMs: 15, failWith: fail));
            }

            await Task.Delay(250);
        }

        await Task.WhenAll(calls);
        await Expect(Line(page, "requests", "requests")).Not.ToHaveAttributeAsync("data-sum", "0");
        await Expect(Line(page, "ttft", "timeToFirstTokenP95Ms")).Not.ToHaveAttributeAsync("data-points", "0");
        await session.ScreenshotAsync("status-charts.png");
        await session.ScreenshotTopAsync("status-readme.png", page.Locator("#traffic"));
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await session.ScreenshotAsync("status-charts-dark.png");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await page.SetViewportSizeAsync(390, 844);
        await session.ScreenshotAsync("status-charts-narrow.png");

        // At phone width nothing but the tables scrolls sideways.
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways at 390 px");
        session.AssertNoPageErrors();
    }

    private static ILocator Line(IPage page, string chart, string series) =>
        page.Locator($"[data-chart='{chart}'] path.line[data-series='{series}']");

    private static async Task<double> NumberAsync(ILocator locator, string attribute) =>
        double.Parse(await locator.GetAttributeAsync(attribute) ?? "NaN", CultureInfo.InvariantCulture);

    /// <summary>Every chart has a path with drawing commands for each of its series.</summary>
    private static async Task AssertDrawnAsync(IPage page)
    {
        foreach (var chart in new[] { "requests", "tokens", "errors", "ttft", "queue" })
        {
            var lines = page.Locator($"[data-chart='{chart}'] path.line");
            Assert.True(await lines.CountAsync() >= 1, $"chart {chart} has no line");
            foreach (var d in await lines.EvaluateAllAsync<string[]>("paths => paths.map(p => p.getAttribute('d'))"))
            {
                Assert.Matches("^M[0-9.]+ [0-9.]+", d);
                Assert.NotEqual("M0 0", d);
            }
        }
    }
}
