using System.Net;
using System.Net.WebSockets;
using Synapse.Client.Hosting;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

[Collection(GatewayCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class AgentProtocolTests(GatewayFixture fixture)
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Agent_ProtocolVersionTheGatewayCannotServe_IsRefusedAndExitsWithTheFix()
    {
        await using var upstream = await FakeUpstream.StartAsync("u1", GatewayFixture.UniqueModel());
        await using var agent = TestAgent.Start(Gateway.WsUrl, upstream, o => o.ProtocolVersion = ProtocolVersion.Current + 1);

        var exitCode = await agent.Run.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(AgentExitCodes.VersionMismatch, exitCode);
        Assert.Contains($"speaks protocol {ProtocolVersion.Current + 1}", agent.Log.All, StringComparison.Ordinal);
        Assert.Contains("/run | bash", agent.Log.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hello_WithOldProtocol_GetsARejectFrameThenAClose()
    {
        await using var raw = await RawAgent.ConnectAsync(Gateway.WsUrl);
        await raw.SendHelloAsync(RawAgent.Hello("raw-old") with { ProtocolVersion = 0 });

        var frame = await raw.ReceiveFrameAsync(FrameType.Reject, TimeSpan.FromSeconds(5));
        var reject = FrameCodec.ReadJson(frame, ProtocolJsonContext.Default.RejectMessage);

        Assert.Equal(RejectMessage.VersionMismatch, reject.Code);
        Assert.Equal(ProtocolVersion.Product, reject.ServerVersion);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await raw.WaitForCloseAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task GarbageFrame_ClosesOnlyThatConnection()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        await using var raw = await RawAgent.ConnectAsync(Gateway.WsUrl);
        await raw.SendHelloAsync(RawAgent.Hello("raw-garbage", GatewayFixture.UniqueModel()));
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));

        await raw.SendRawAsync([0xEE, 1, 2, 3]);

        Assert.Equal(WebSocketCloseStatus.ProtocolError, await raw.WaitForCloseAsync(TimeSpan.FromSeconds(5)));
        using var client = Gateway.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
        Assert.Equal(1, agent.App.ConnectedCount);
    }

    [Fact]
    public async Task TruncatedFrame_ClosesTheConnectionWithProtocolError()
    {
        await using var raw = await RawAgent.ConnectAsync(Gateway.WsUrl);
        await raw.SendHelloAsync(RawAgent.Hello("raw-truncated", GatewayFixture.UniqueModel()));
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));

        await raw.SendRawAsync([(byte)FrameType.ResponseHead, 1, 2]);

        Assert.Equal(WebSocketCloseStatus.ProtocolError, await raw.WaitForCloseAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task TextMessage_ClosesTheConnection()
    {
        await using var raw = await RawAgent.ConnectAsync(Gateway.WsUrl);

        await raw.SendRawAsync("hello"u8.ToArray(), WebSocketMessageType.Text);

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await raw.WaitForCloseAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task FrameBeforeHello_ClosesTheConnection()
    {
        await using var raw = await RawAgent.ConnectAsync(Gateway.WsUrl);

        await raw.SendAsync(FrameCodec.ResponseBody(42, "x"u8));

        Assert.Equal(WebSocketCloseStatus.ProtocolError, await raw.WaitForCloseAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task SilentAgent_IsDroppedAfterTheHeartbeatTimeoutAndItsModelWithdrawn()
    {
        var model = GatewayFixture.UniqueModel();
        await using var raw = await RawAgent.ConnectAsync(Gateway.WsUrl);
        await raw.SendHelloAsync(RawAgent.Hello("raw-silent", model));
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));
        await TestAgent.WaitForModelAsync(Gateway, model, 1);

        // The raw agent never answers pings nor sends anything: after 3 s (the fixture's timeout) it is dead.
        using var client = Gateway.CreateClient();
        await Eventually.UntilAsync(
            async () => (await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative))).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(8),
            "the silent agent's model is withdrawn");
        Assert.Contains("HeartbeatTimeout", Gateway.Log.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_GatewayGoesSilent_NoticesWithinTheHeartbeatTimeoutAndReconnects()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var proxy = new TcpProxy(Gateway.WsUrl.Port);
        var throughProxy = new Uri($"ws://127.0.0.1:{proxy.Port}/ws");
        await using var agent = TestAgent.Start(throughProxy, upstream);
        await agent.WaitConnectedAsync();

        proxy.Pause();
        await Eventually.UntilAsync(() => agent.App.ConnectedCount == 0, TimeSpan.FromSeconds(8), "the agent notices the silence");
        proxy.Resume();

        await agent.WaitConnectedAsync();
        await TestAgent.WaitForModelAsync(Gateway, model, 1);
    }

    [Fact]
    public async Task Agent_StartedBeforeTheGateway_ConnectsOnceItIsUp()
    {
        var model = GatewayFixture.UniqueModel();
        var port = FreePorts.Next();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = TestAgent.Start(new Uri($"ws://127.0.0.1:{port}/ws"), upstream);
        await Eventually.UntilAsync(() => agent.Log.All.Contains("Cannot connect", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the agent tried and failed");

        await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?> { ["Synapse:Gateway:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        await agent.WaitConnectedAsync();
        await TestAgent.WaitForModelAsync(gateway, model, 1);
    }
}
