using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// The agent against a hostile gateway (a fake one, scripted frame by frame): garbage makes it drop that socket and
/// reconnect cleanly, stray ids are ignored, and nothing the gateway sends overrides the upstream's key or framing.
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class HostileGatewayTests
{
    private const string UpstreamKey = "agent-side-upstream-key-6f0d2a";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static TheoryData<string, byte[][]> HostileSequences => new()
    {
        { "unknown frame type", [[0xEE, 1, 2, 3]] },
        { "a frame meant for the gateway", [[(byte)FrameType.ResponseEnd, 1, 2]] },
        { "truncated request head", [[.. Id(FrameType.RequestHead, 5), 1, 200]] },
        { "window update granting negative credit", [[.. Id(FrameType.WindowUpdate, 5), 0, 0, 0, 0x80]] },
        { "duplicate request id", [Head(7, endOfBody: false), Head(7, endOfBody: false)] },
        { "request head larger than the frame limit", [[.. Head(8, endOfBody: false), .. new byte[2 * 1024 * 1024]]] },
        { "empty message", [[]] },
    };

    [Theory]
    // Not enumerated at discovery: xunit would serialize the 2 MiB frame byte by byte, which took most of a minute
    // on every test run, whatever its filter.
    [MemberData(nameof(HostileSequences), DisableDiscoveryEnumeration = true)]
    public async Task Agent_GarbageFromTheGateway_DropsThatSocketAndReconnects(string what, byte[][] frames)
    {
        await using var setup = await Setup.StartAsync();
        var first = await setup.WelcomedAsync();

        try
        {
            foreach (var frame in frames)
            {
                await first.SendRawAsync(frame);
            }
        }
        catch (WebSocketException)
        {
            // The agent may drop the socket while the rest is still being sent.
        }

        Assert.True(await first.ClosedWithinAsync(Timeout), $"{what}: the agent closes the socket");
        var second = await setup.Gateway.AcceptAsync(Timeout);
        var hello = await second.ReceiveHelloAsync(Timeout);
        Assert.Equal(setup.Agent.App.AgentId, hello.AgentId);
        Assert.False(setup.Agent.Run.IsCompleted, $"{what}: the agent keeps running");
        Assert.DoesNotContain(setup.Upstream.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task Agent_WelcomeLiftingTheFrameLimit_StillStopsAHugeRequestHeadAt64MiB()
    {
        await using var setup = await Setup.StartAsync();
        var first = await setup.WelcomedAsync(maxFrameBytes: int.MaxValue);
        var huge = new byte[(64 * 1024 * 1024) + (64 * 1024)];
        Head(12, endOfBody: false).CopyTo(huge, 0);

        try
        {
            await first.SendRawAsync(huge);
        }
        catch (WebSocketException)
        {
        }

        Assert.True(await first.ClosedWithinAsync(Timeout), "the agent refuses a message over 64 MiB whatever the welcome said");
        Assert.NotNull(await (await setup.Gateway.AcceptAsync(Timeout)).ReceiveHelloAsync(Timeout));
        Assert.False(setup.Agent.Run.IsCompleted);
    }

    [Fact]
    public async Task Agent_TextMessageFromTheGateway_DropsThatSocketAndReconnects()
    {
        await using var setup = await Setup.StartAsync();
        var first = await setup.WelcomedAsync();

        await first.SendRawAsync("{\"type\":\"welcome\"}"u8.ToArray(), WebSocketMessageType.Text);

        Assert.True(await first.ClosedWithinAsync(Timeout));
        Assert.NotNull(await (await setup.Gateway.AcceptAsync(Timeout)).ReceiveHelloAsync(Timeout));
        Assert.False(setup.Agent.Run.IsCompleted);
    }

    [Fact]
    public async Task Agent_RequestHeadBeforeTheWelcome_DropsThatSocketAndReconnects()
    {
        await using var setup = await Setup.StartAsync();
        var first = await setup.Gateway.AcceptAsync(Timeout);
        await first.ReceiveHelloAsync(Timeout);

        await first.SendRawAsync(Head(1, endOfBody: true));

        Assert.True(await first.ClosedWithinAsync(Timeout));
        Assert.NotNull(await (await setup.Gateway.AcceptAsync(Timeout)).ReceiveHelloAsync(Timeout));
        Assert.DoesNotContain(setup.Upstream.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task Agent_FramesForIdsItNeverGot_AreIgnoredAndTheSameSocketStillServes()
    {
        await using var setup = await Setup.StartAsync();
        var socket = await setup.WelcomedAsync();

        await socket.SendAsync(FrameCodec.WindowUpdate(424242, 65536));
        await socket.SendAsync(FrameCodec.Cancel(424243));
        await socket.SendAsync(FrameCodec.RequestBody(424244, "stray"u8, endOfBody: true));
        var (status, body) = await setup.ChatAsync(socket, 9, []);

        Assert.Equal(200, status);
        Assert.Contains("tok0", body, StringComparison.Ordinal);
        Assert.Equal(1, setup.Gateway.Accepted);
    }

    [Fact]
    public async Task Agent_HostileRequestHeaders_NeverReplaceTheUpstreamKeyOrFramingAndTheKeyNeverReachesTheGateway()
    {
        await using var setup = await Setup.StartAsync();
        var socket = await setup.WelcomedAsync();
        HeaderField[] hostile =
        [
            new("Authorization", "Bearer gateway-injected"), new("Proxy-Authorization", "Basic Z2F0ZXdheQ=="), new("Host", "evil.example"),
            new("Content-Length", "99999999"), new("Transfer-Encoding", "chunked"), new("Connection", "close"), new("Expect", "100-continue"),
            new("X-Passed-Through", "yes"),
        ];

        var (status, _) = await setup.ChatAsync(socket, 11, hostile);

        Assert.Equal(200, status);
        var received = setup.Upstream.Requests.Single(r => r.Path == "/v1/chat/completions");
        Assert.Equal($"Bearer {UpstreamKey}", received.Headers["Authorization"]);
        Assert.False(received.Headers.ContainsKey("Proxy-Authorization"));
        Assert.DoesNotContain("evil", received.Headers["Host"], StringComparison.Ordinal);
        Assert.NotEqual("99999999", received.Headers.GetValueOrDefault("Content-Length"));
        Assert.False(received.Headers.ContainsKey("Transfer-Encoding"));
        Assert.Equal("yes", received.Headers["X-Passed-Through"]);
        Assert.Contains(setup.Upstream.Model, received.Body, StringComparison.Ordinal);

        // Everything the agent ever sent the gateway: hello, model updates, the answer. Not a trace of its key.
        var keyBytes = Encoding.UTF8.GetBytes(UpstreamKey);
        Assert.DoesNotContain(socket.Received, m => m.AsSpan().IndexOf(keyBytes) >= 0);
        Assert.DoesNotContain(UpstreamKey, socket.RequestHeaders.Values.Aggregate(string.Empty, string.Concat), StringComparison.Ordinal);
        Assert.DoesNotContain(UpstreamKey, setup.Agent.Log.All, StringComparison.Ordinal);
    }

    private static byte[] Id(FrameType type, long id)
    {
        var bytes = new byte[9];
        bytes[0] = (byte)type;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), id);
        return bytes;
    }

    private static byte[] Head(long id, bool endOfBody, string model = "m", HeaderField[]? headers = null, string body = "")
    {
        var frame = FrameCodec.RequestHead(
            new RequestHead(id, model, "POST", "/v1/chat/completions", headers ?? [new HeaderField("Content-Type", "application/json")], endOfBody),
            Encoding.UTF8.GetBytes(body));
        var bytes = frame.Span.ToArray();
        frame.Return();
        return bytes;
    }

    /// <summary>A fake gateway, a fake upstream, and the real agent between them.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private Setup(FakeGateway gateway, UpstreamWithModel upstream, TestAgent agent)
        {
            Gateway = gateway;
            Upstream = upstream;
            Agent = agent;
        }

        public FakeGateway Gateway { get; }

        public UpstreamWithModel Upstream { get; }

        public TestAgent Agent { get; }

        public static async Task<Setup> StartAsync()
        {
            var gateway = await FakeGateway.StartAsync();
            var model = GatewayFixture.UniqueModel("fake-gw");
            var upstream = await FakeUpstream.StartAsync("fake-gw", model);
            upstream.RequiredApiKey = UpstreamKey;
            var agent = TestAgent.Start(gateway.WsUrl, upstream, o =>
            {
                o.UpstreamApiKey = UpstreamKey;
                o.Connections = 1;
            });
            return new Setup(gateway, new UpstreamWithModel(upstream, model), agent);
        }

        public async Task<FakeGatewaySocket> WelcomedAsync(int maxFrameBytes = ProtocolLimits.DefaultMaxFrameBytes)
        {
            var socket = await Gateway.AcceptAsync(Timeout);
            await socket.ReceiveHelloAsync(Timeout);
            await socket.WelcomeAsync(maxFrameBytes);
            await Eventually.UntilAsync(() => Agent.App.ConnectedCount == 1, Timeout, "the agent took the welcome");
            return socket;
        }

        /// <summary>Sends one chat request down <paramref name="socket"/> and collects the agent's answer.</summary>
        public async Task<(int Status, string Body)> ChatAsync(FakeGatewaySocket socket, long id, HeaderField[] extraHeaders)
        {
            HeaderField[] headers = [new("Content-Type", "application/json"), .. extraHeaders];
            await socket.SendRawAsync(Head(id, endOfBody: true, Upstream.Model, headers, $$"""{"model":"{{Upstream.Model}}"}"""));
            var status = 0;
            var body = new StringBuilder();
            while (await socket.ReceiveNextAsync(Timeout) is { } frame)
            {
                var type = (FrameType)frame[0];
                if (type is not (FrameType.ResponseHead or FrameType.ResponseBody or FrameType.ResponseEnd) || FrameCodec.ReadRequestId(frame) != id)
                {
                    continue;
                }

                if (type == FrameType.ResponseHead)
                {
                    status = FrameCodec.ReadResponseHead(frame).StatusCode;
                }
                else if (type == FrameType.ResponseBody)
                {
                    body.Append(Encoding.UTF8.GetString(frame.AsSpan(FrameCodec.RequestPayloadOffset)));
                }
                else
                {
                    Assert.True(FrameCodec.ReadResponseEnd(frame).IsSuccess, "the agent ends the request without an error");
                    break;
                }
            }

            return (status, body.ToString());
        }

        public async ValueTask DisposeAsync()
        {
            await Agent.DisposeAsync();
            await Gateway.DisposeAsync();
            await Upstream.Server.DisposeAsync();
        }
    }

    private sealed record UpstreamWithModel(FakeUpstream Server, string Model)
    {
        public IReadOnlyCollection<RecordedRequest> Requests => Server.Requests;
    }
}
