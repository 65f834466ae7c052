using System.Globalization;
using System.Net;
using System.Text.Json;
using Synapse.Protocol;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

/// <summary>The gateway and the agent as real processes: command lines, environment, signals.</summary>
[Collection(GatewayCollection.Name)]
[Trait("Category", "Process")]
public sealed class ProcessTests(GatewayFixture fixture)
{
    private TestGateway Gateway => fixture.Gateway;

    [Theory]
    [InlineData(ProductProcess.Gateway)]
    [InlineData(ProductProcess.Agent)]
    public async Task Version_PrintsTheProductVersionAndExitsZero(string program)
    {
        var (exitCode, output) = await ProductProcess.RunAsync(program, "--version");

        Assert.Equal(0, exitCode);
        Assert.Equal(ProtocolVersion.Product, output.Trim());
    }

    [Theory]
    [InlineData(ProductProcess.Gateway, "--api-auth-key", "--ws-auth-key", "--client-binary", "--redis", "--silo-port")]
    [InlineData(ProductProcess.Agent, "--upstream", "--server-url", "--ws-auth-key", "--upstream-api-key", "--max-concurrency", "--name")]
    public async Task Help_ListsEveryFlag(string program, params string[] flags)
    {
        var (exitCode, output) = await ProductProcess.RunAsync(program, "--help");

        Assert.Equal(0, exitCode);
        foreach (var flag in flags)
        {
            Assert.Contains(flag, output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(ProductProcess.Gateway, "--port", "eighty")]
    [InlineData(ProductProcess.Agent, "--max-concurrency", "lots")]
    [InlineData(ProductProcess.Agent, "--upstream", "not a url")]
    public async Task BadFlagValue_ExitsWithUsageErrorNamingTheFlag(string program, string flag, string value)
    {
        var (exitCode, output) = await ProductProcess.RunAsync(program, flag, value);

        Assert.Equal(2, exitCode);
        Assert.Contains(flag, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_KeysFromEnvironment_AreEnforced()
    {
        var port = FreePorts.Next();
        await using var gateway = ProductProcess.Start(
            ProductProcess.Gateway,
            ["--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--silo-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture), "--gateway-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string> { ["SYNAPSE_API_AUTH_KEY"] = "env-key-123" });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await Eventually.UntilAsync(
            async () =>
            {
                try
                {
                    return (await client.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(30),
            "the gateway process is ready");

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(new Uri("/v1/models", UriKind.Relative))).StatusCode);
        client.DefaultRequestHeaders.Add("X-API-Key", "env-key-123");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/v1/models", UriKind.Relative))).StatusCode);
        Assert.DoesNotContain("env-key-123", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_Sigterm_FinishesTheStreamInFlightThenExitsZero()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = StartAgent(upstream);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);

        using var client = Gateway.CreateClient();
        using var response = await ChatCalls.StreamAsync(client, model, tokens: 10, delayMs: 200);
        var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("tok0", await reader.NextDataAsync(), StringComparison.Ordinal);

        agent.Terminate();
        var rest = await reader.ReadAllDataAsync().WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal("[DONE]", rest[^1]);
        Assert.Equal(9, rest.Count(d => d.Contains("\"tok", StringComparison.Ordinal)));
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        await Eventually.UntilAsync(
            async () => (await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative))).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(5),
            "the drained agent's model is withdrawn");
    }

    [Fact]
    public async Task Agent_SecondSigterm_StopsAtOnceAndTheStreamEndsWithAnError()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = StartAgent(upstream);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);

        using var client = Gateway.CreateClient();
        using var response = await ChatCalls.StreamAsync(client, model, tokens: 300, delayMs: 100);
        var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("tok0", await reader.NextDataAsync(), StringComparison.Ordinal);

        agent.Terminate();
        await agent.WaitForOutputAsync("Draining", TimeSpan.FromSeconds(10));
        agent.Terminate();

        Assert.Equal(130, await agent.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        var rest = await reader.ReadAllDataAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("agent_disconnected", JsonDocument.Parse(rest[^1]).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private ProductProcess StartAgent(FakeUpstream upstream) => ProductProcess.Start(
        ProductProcess.Agent,
        ["--upstream", upstream.Url + "/v1", "--server-url", Gateway.WsUrl.ToString(), "--name", "proc-" + Guid.NewGuid().ToString("N")[..6], "--discovery-interval", "1"]);
}
