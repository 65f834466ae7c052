using System.Net;
using System.Net.WebSockets;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// A key holder abusing the handshake: a second hello after a refusal, a socket that never says hello, and another
/// process claiming a live agent's id. None of it registers, lists or routes anything, and the real agent keeps its
/// identity, name and capacity.
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class AgentHandshakeAbuseTests(HostileFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Agent_ValidHelloAfterARefusedOne_IsNeverReadAndTheSocketIsCutWithinASecond()
    {
        var model = GatewayFixture.UniqueModel("after-reject");
        var agentId = "after-reject-" + Guid.NewGuid().ToString("N")[..6];
        await using var raw = await fixture.ConnectRawAgentAsync();
        await raw.SendHelloAsync(RawAgent.Hello(agentId, model) with { ProtocolVersion = 99 });
        var reject = await raw.ReceiveFrameAsync(FrameType.Reject, Timeout);
        Assert.NotNull(reject);
        Assert.Equal(RejectMessage.VersionMismatch, FrameCodec.ReadJson(reject, ProtocolJsonContext.Default.RejectMessage).Code);

        // The gateway's close arrives; this peer ignores it and carries on as if accepted.
        Assert.Null(await raw.ReceiveAsync(Timeout));
        Assert.Equal(WebSocketState.CloseReceived, raw.Socket.State);
        var cutAfter = System.Diagnostics.Stopwatch.StartNew();
        var cut = await KeepTalkingUntilCutAsync(raw, RawAgent.Hello(agentId, model), TimeSpan.FromSeconds(10));

        Assert.True(cut, "the gateway cuts a refused peer that ignores its close");
        Assert.True(cutAfter.Elapsed < TimeSpan.FromSeconds(3), $"cut after {cutAfter.Elapsed.TotalSeconds:0.0} s (the close timeout is 1 s)");
        using var client = fixture.CreateClient();
        using var listed = await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, listed.StatusCode);
        Assert.DoesNotContain(await client.GetStringAsync(new Uri("/status", UriKind.Relative)), agentId, StringComparison.Ordinal);
        Assert.DoesNotContain(Gateway.Log.Lines, l => l.Contains(agentId, StringComparison.Ordinal) && l.Contains("connected from", StringComparison.Ordinal));
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_NeverSayingHello_IsClosedWith1008AndAReason()
    {
        await using var raw = await fixture.ConnectRawAgentAsync();

        var status = await raw.WaitForCloseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("no hello within 2 s", raw.Socket.CloseStatusDescription);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_ClaimingALiveAgentsIdFromAnotherProcess_IsRefusedAndTheRealOneKeepsItsCapacity()
    {
        var model = GatewayFixture.UniqueModel("identity");
        await using var upstream = await FakeUpstream.StartAsync("identity", model);
        var agentId = "real-" + Guid.NewGuid().ToString("N")[..6];
        await using var real = await TestAgent.StartServingAsync(Gateway, upstream, model, o =>
        {
            o.WsAuthKey = HostileFixture.WsKey;
            o.AgentId = agentId;
            o.MaxConcurrency = 64;
        });

        await using var impostor = await fixture.ConnectRawAgentAsync();
        await impostor.SendHelloAsync(RawAgent.Hello(agentId, model) with { Capacity = 1, Name = "impostor", InstanceToken = "not-the-real-token" });
        var frame = await impostor.ReceiveFrameAsync(FrameType.Reject, Timeout);

        Assert.NotNull(frame);
        var reject = FrameCodec.ReadJson(frame, ProtocolJsonContext.Default.RejectMessage);
        Assert.Equal(RejectMessage.AgentIdInUse, reject.Code);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await impostor.WaitForCloseAsync(Timeout));
        var instance = Assert.Single((await Gateway.SnapshotAsync(model)).Instances);
        Assert.Equal(64, instance.Capacity);
        Assert.Equal(real.Options.Name, instance.Name);
        Assert.Contains(Gateway.Log.Lines, l => l.Contains("agent_id_in_use", StringComparison.Ordinal));
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_RestartedWithANewToken_IsAcceptedOnceItsOldSocketsAreGone()
    {
        var model = GatewayFixture.UniqueModel("restart");
        var agentId = "restart-" + Guid.NewGuid().ToString("N")[..6];
        var before = await fixture.ConnectRawAgentAsync();
        await before.SendHelloAsync(RawAgent.Hello(agentId, model) with { InstanceToken = "first-run" });
        Assert.NotNull(await before.ReceiveFrameAsync(FrameType.Welcome, Timeout));

        // The old process dies without a goodbye: its socket breaks.
        before.Socket.Abort();
        await before.DisposeAsync();

        await Eventually.UntilAsync(
            async () =>
            {
                await using var after = await fixture.ConnectRawAgentAsync();
                await after.SendHelloAsync(RawAgent.Hello(agentId, model) with { InstanceToken = "second-run" });
                var answer = await after.ReceiveAsync(Timeout);
                return answer is not null && (FrameType)answer[0] == FrameType.Welcome;
            },
            Timeout,
            "the restarted agent is welcomed");
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_RealAgentWhoseIdIsHeld_RetriesUntilTheHolderLeavesThenServes()
    {
        var model = GatewayFixture.UniqueModel("held");
        var agentId = "held-" + Guid.NewGuid().ToString("N")[..6];
        var holder = await fixture.ConnectRawAgentAsync();
        await holder.SendHelloAsync(RawAgent.Hello(agentId, "other-model") with { InstanceToken = "holder" });
        Assert.NotNull(await holder.ReceiveFrameAsync(FrameType.Welcome, Timeout));
        await using var upstream = await FakeUpstream.StartAsync("held", model);

        await using var agent = TestAgent.Start(Gateway.WsUrl, upstream, o =>
        {
            o.WsAuthKey = HostileFixture.WsKey;
            o.AgentId = agentId;
        });
        await Eventually.UntilAsync(() => agent.Log.All.Contains("agent_id_in_use", StringComparison.Ordinal), Timeout, "the agent is told its id is in use");
        Assert.False(agent.Run.IsCompleted, "the agent keeps trying instead of exiting");

        await holder.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await holder.DisposeAsync();

        await TestAgent.WaitForModelAsync(Gateway, model, expectedInstances: 1);
        await fixture.StillServesAsync();
    }

    /// <summary>
    /// Sends a hello, then a ping every 50 ms, until the gateway cuts the socket (a send fails); true if it did within
    /// <paramref name="limit"/>. (After the gateway's close this side may still send, but no longer receive.)
    /// </summary>
    private static async Task<bool> KeepTalkingUntilCutAsync(RawAgent raw, HelloMessage hello, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        try
        {
            await raw.SendHelloAsync(hello);
            while (DateTime.UtcNow < deadline)
            {
                await raw.SendAsync(FrameCodec.Ping(FrameType.Ping, 1));
                await Task.Delay(50);
            }

            return false;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            return true;
        }
    }
}
