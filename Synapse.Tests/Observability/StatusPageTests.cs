using Microsoft.Playwright;
using Synapse.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Synapse.Tests.Observability;

/// <summary>
/// The status page in a real browser against a real gateway and real agents: what an operator sees changes
/// while the page stays open, without a reload.
/// </summary>
[Collection(GatewayCollection.Name)]
[Trait("Category", "Browser")]
public sealed class StatusPageTests(GatewayFixture fixture, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task StatusPage_AgentAttaches_AppearsWithoutReload()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var session = await OpenAsync(Gateway);
        var page = session.Page;
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-connection", "live");
        await Expect(Instances(page, model)).ToHaveCountAsync(0);
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");

        // The name comes from the agent: it must show as text, never as markup.
        var name = "<img src=x onerror=\"window.__injected=1\">gpu-" + Guid.NewGuid().ToString("N")[..6];
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o =>
        {
            o.Name = name;
            o.MaxConcurrency = 3;
        });

        var instance = Instance(page, model, agent.App.AgentId);
        await Expect(instance).ToBeVisibleAsync();
        await Expect(instance).ToHaveAttributeAsync("data-state", "ready");
        await Expect(instance.Locator(".name")).ToHaveTextAsync(name);
        await Expect(instance.Locator("[data-field=capacity]")).ToHaveTextAsync("/ 3");
        await Expect(page.Locator($"tr.model-row[data-model='{model}']")).ToBeVisibleAsync();
        var agentRow = page.Locator($"#agents tr[data-agent-id='{agent.App.AgentId}']");
        await Expect(agentRow).ToContainTextAsync(model);
        await Expect(agentRow.Locator(".conn")).ToHaveCountAsync(1);

        // A model folds away and opens again; the fold survives the next polls.
        var toggle = page.Locator($"tr.model-row[data-model='{model}'] .toggle");
        await toggle.ClickAsync();
        await Expect(toggle).ToHaveAttributeAsync("aria-expanded", "false");
        await Expect(instance).ToHaveCountAsync(0);
        await page.WaitForResponseAsync(r => r.Url.EndsWith("/status", StringComparison.Ordinal));
        await page.WaitForResponseAsync(r => r.Url.EndsWith("/status", StringComparison.Ordinal));
        Assert.Equal(0, await instance.CountAsync());
        await toggle.ClickAsync();
        await Expect(instance).ToBeVisibleAsync();

        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page was reloaded");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__injected === undefined"), "an agent's name ran as markup");
        Assert.Equal(0, await page.Locator("main img").CountAsync());
        session.AssertNoPageErrors();
    }

    [Fact]
    public async Task StatusPage_SlowStream_InFlightMovesAndReturns()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model, o => o.MaxConcurrency = 2);
        await using var session = await OpenAsync(Gateway);
        var page = session.Page;
        var instance = Instance(page, model, agent.App.AgentId);
        await Expect(instance.Locator("[data-field=inFlight]")).ToHaveTextAsync("0");

        using var client = Gateway.CreateClient();
        using var first = await ChatCalls.StreamAsync(client, model, tokens: 600, delayMs: 50);
        await Expect(instance.Locator("[data-field=inFlight]")).ToHaveTextAsync("1");
        await Expect(instance).ToHaveAttributeAsync("data-state", "ready");

        using var second = await ChatCalls.StreamAsync(client, model, tokens: 600, delayMs: 50);
        await Expect(instance.Locator("[data-field=inFlight]")).ToHaveTextAsync("2");
        await Expect(instance).ToHaveAttributeAsync("data-state", "full");
        await Expect(page.Locator("#summary-inflight")).Not.ToHaveTextAsync("0");

        first.Dispose();
        second.Dispose();
        await Expect(instance.Locator("[data-field=inFlight]")).ToHaveTextAsync("0");
        await Expect(instance).ToHaveAttributeAsync("data-state", "ready");
        session.AssertNoPageErrors();
    }

    [Fact]
    public async Task StatusPage_EngineQueueGrows_TheInstanceShowsItWithoutReload()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        upstream.Engine.Kind = FakeEngineKind.Vllm;
        upstream.Engine.SetLoad(model, 2, 0, 0.1);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await using var session = await OpenAsync(Gateway);
        var engine = Instance(session.Page, model, agent.App.AgentId).Locator("[data-field=engine]");
        await Expect(engine).ToHaveTextAsync("vllm: 2 running · 0 queued · KV 10%");

        upstream.Engine.SetLoad(model, 8, 14, 0.875);

        await Expect(engine).ToHaveTextAsync("vllm: 8 running · 14 queued · KV 88%");
        session.AssertNoPageErrors();
    }

    [Fact]
    public async Task StatusPage_AgentKilled_DisappearsWithoutReload()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await using var session = await OpenAsync(Gateway);
        var page = session.Page;
        var instance = Instance(page, model, agent.App.AgentId);
        await Expect(instance).ToHaveAttributeAsync("data-state", "ready");
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");

        agent.Kill();
        await agent.DisposeAsync();

        // Gone, or at least no longer offered as ready.
        await Expect(page.Locator($"tr.instance[data-model='{model}'][data-state='ready']")).ToHaveCountAsync(0);
        await Expect(page.Locator($"#agents tr[data-agent-id='{agent.App.AgentId}']")).ToHaveCountAsync(0);
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-connection", "live");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page was reloaded");
        session.AssertNoPageErrors();
    }

    [Fact]
    public async Task StatusPage_GatewayStopsAnswering_ShowsBannerThenRecovers()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await using var session = await OpenAsync(Gateway);
        var page = session.Page;
        await Expect(Instance(page, model, agent.App.AgentId)).ToBeVisibleAsync();
        await Expect(page.Locator("#connection-banner")).ToBeHiddenAsync();

        await page.RouteAsync("**/status", route => route.AbortAsync("connectionrefused"));
        await Expect(page.Locator("#connection-banner")).ToBeVisibleAsync();
        await Expect(page.Locator("#connection-banner")).ToContainTextAsync("Connection lost");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-connection", "lost");
        await Expect(Instance(page, model, agent.App.AgentId)).ToBeVisibleAsync(); // last known state stays on screen

        await page.UnrouteAsync("**/status");
        await Expect(page.Locator("#connection-banner")).ToBeHiddenAsync();
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-connection", "live");
        session.AssertNoPageErrors();
    }

    [Fact]
    public async Task StatusPage_ApiKeyGateway_AsksForKeyThenShowsData()
    {
        const string key = "status-page-key-4b1d";
        await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?> { ["Synapse:Gateway:ApiAuthKey"] = key });
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(gateway, upstream, model);
        await using var session = await OpenAsync(gateway);
        var page = session.Page;

        await Expect(page.Locator("#key-prompt")).ToBeVisibleAsync();
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-connection", "auth");
        await Expect(page.Locator("#content")).ToBeHiddenAsync();

        await page.Locator("#key-input").FillAsync("not-the-key");
        await page.Locator("#key-submit").ClickAsync();
        await Expect(page.Locator("#key-error")).ToBeVisibleAsync();
        await Expect(page.Locator("#key-prompt")).ToBeVisibleAsync();

        await page.Locator("#key-input").FillAsync(key);
        await page.Locator("#key-input").PressAsync("Enter");
        await Expect(Instance(page, model, agent.App.AgentId)).ToBeVisibleAsync();
        await Expect(page.Locator("#key-prompt")).ToBeHiddenAsync();
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-connection", "live");
        Assert.Equal(key, await page.EvaluateAsync<string>("() => sessionStorage.getItem('synapse-api-key')"));

        // The key is kept for the tab: a reload goes straight to the data.
        await page.ReloadAsync();
        await Expect(Instance(page, model, agent.App.AgentId)).ToBeVisibleAsync();
        await Expect(page.Locator("#key-prompt")).ToBeHiddenAsync();
        session.AssertNoPageErrors();
    }

    /// <summary>Two silos, two models, three agents, some of them full and a queue: the picture an operator looks at.</summary>
    [Fact]
    public async Task StatusPage_UnderLoad_ScreenshotsForReview()
    {
        var settings = new Dictionary<string, string?> { ["Synapse:Agents:HeartbeatInterval"] = "00:00:01" };
        await using var gateway = await TestGateway.StartAsync(settings);
        await using var second = await TestGateway.StartAsync(settings, join: gateway);
        const string llama = "llama-3.1-8b-instruct";
        const string qwen = "qwen2.5-coder-7b";
        await using var big = await FakeUpstream.StartAsync("big", llama, qwen);
        await using var small = await FakeUpstream.StartAsync("small", llama);
        await using var laptop = await FakeUpstream.StartAsync("laptop", qwen);
        await using var agent1 = TestAgent.Start([gateway.WsUrl, second.WsUrl], big.Url, o => { o.Name = "gpu-a100-01"; o.MaxConcurrency = 8; });
        await using var agent2 = TestAgent.Start(gateway.WsUrl, small, o => { o.Name = "gpu-l4-02"; o.MaxConcurrency = 2; });
        await using var agent3 = TestAgent.Start(second.WsUrl, laptop, o => { o.Name = "mac-studio"; o.MaxConcurrency = 4; });
        await agent1.WaitConnectedAsync(2);
        await TestAgent.WaitForModelAsync(gateway, llama, expectedInstances: 2);
        await TestAgent.WaitForModelAsync(gateway, qwen, expectedInstances: 2);

        using var client = gateway.CreateClient();
        foreach (var model in new[] { llama, llama, llama, qwen, qwen, qwen })
        {
            // A few finished calls give the instances a latency to show.
            using var warmUp = await ChatCalls.StreamAsync(client, model, tokens: 2, delayMs: 1);
            await warmUp.Content.ReadAsStringAsync();
        }

        var streams = new List<HttpResponseMessage>();
        try
        {
            // llama: capacity 8 + 2, both instances full; qwen: 3 of 8 + 4.
            for (var i = 0; i < 10; i++)
            {
                streams.Add(await ChatCalls.StreamAsync(client, llama, tokens: 1200, delayMs: 50));
            }

            for (var i = 0; i < 3; i++)
            {
                streams.Add(await ChatCalls.StreamAsync(client, qwen, tokens: 1200, delayMs: 50));
            }
        }
        catch
        {
            streams.ForEach(s => s.Dispose());
            throw;
        }

        try
        {
            // Queued calls have no response head yet: start them without waiting.
            var queued = Enumerable.Range(0, 3).Select(_ => ChatCalls.StreamAsync(client, llama, tokens: 10, delayMs: 10)).ToList();

            await using var session = await OpenAsync(gateway);
            var page = session.Page;
            await Expect(page.Locator("#summary-silos-up")).ToHaveTextAsync("2");
            await Expect(page.Locator("#summary-instances")).ToHaveTextAsync("4");
            await Expect(page.Locator("#summary-inflight")).ToHaveTextAsync("13");
            await Expect(page.Locator("#summary-queued")).Not.ToHaveTextAsync("0");
            await Expect(page.Locator($"tr.instance[data-model='{llama}'][data-state='full']")).ToHaveCountAsync(2);
            await Expect(page.Locator(".age", new() { HasTextString = " s ago" }).First).ToBeVisibleAsync();

            await session.ScreenshotAsync("status-page-load.png");
            await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
            await session.ScreenshotAsync("status-page-load-dark.png");
            session.AssertNoPageErrors();

            streams.ForEach(s => s.Dispose());
            await Expect(page.Locator("#summary-inflight")).ToHaveTextAsync("0", new() { Timeout = 15_000 });
            foreach (var call in queued)
            {
                (await call).Dispose();
            }
        }
        finally
        {
            streams.ForEach(s => s.Dispose());
        }
    }

    private static ILocator Instances(IPage page, string model) => page.Locator($"tr.instance[data-model='{model}']");

    private static ILocator Instance(IPage page, string model, string agentId) =>
        page.Locator($"tr.instance[data-model='{model}'][data-agent-id='{agentId}']");

    private Task<StatusPageSession> OpenAsync(TestGateway gateway) => StatusPageSession.OpenAsync(chromium.Browser, gateway.BaseUrl + "/");
}
