using Microsoft.Extensions.DependencyInjection;
using Synapse.Silo.Agents;
using Synapse.Tests.EndToEnd;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Install;

/// <summary>Engine signals from the agent as users run it: the Native AOT binary (no reflection for the JSON, the parsers).</summary>
[Trait("Category", "Process")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(InstallCollection.Name)]
public sealed class PublishedAgentSignalsTests(InstallFixture fixture)
{
    [Fact]
    public async Task PublishedAgent_NextToSglang_SendsItsLoadToTheGateway()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("sglang", model);
        upstream.Engine.Kind = FakeEngineKind.Sglang;
        upstream.Engine.SetLoad(model, 6, 13, 0.64);
        var name = "aot-" + Guid.NewGuid().ToString("N")[..6];

        await using var agent = ProductProcess.StartShell(
            $"exec '{fixture.Agent.Binary}' --server-url '{fixture.Gateway.WsUrl}' --upstream '{upstream.Url}/v1' --name {name} --engine-metrics-interval 0.25",
            new Dictionary<string, string>());

        var sessions = fixture.Gateway.Services.GetRequiredService<AgentSessionRegistry>();
        await Eventually.UntilAsync(
            () => sessions.Sessions.Any(s => s.AgentName == name && s.EngineSignals.TryGet(model, out var l) && l.Waiting == 13),
            TimeSpan.FromSeconds(20),
            "the published agent's signals reach the gateway");
        var load = sessions.Sessions.Select(s => s.EngineSignals.TryGet(model, out var l) ? l : null).OfType<Synapse.Grains.Agents.EngineLoad>().Single();
        Assert.Equal(("sglang", 6, 13, 0.64, 250), (load.Engine, load.Running, load.Waiting, load.KvUsage, load.IntervalMs));
        Assert.Contains("Reading sglang's load from", agent.Output, StringComparison.Ordinal);
    }
}
