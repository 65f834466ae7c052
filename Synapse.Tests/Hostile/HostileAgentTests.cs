using System.Buffers.Binary;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// Agent sockets that break the protocol, by hand. Each closes that socket alone, with a close status saying why
/// (1002 protocol, 1009 too big, 1008 policy), or is ignored when harmless; the gateway keeps serving. (A text
/// message, a frame before the hello, a 0xEE frame and a truncated ResponseHead are in EndToEnd/AgentProtocolTests.)
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class HostileAgentTests(HostileFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private TestGateway Gateway => fixture.Gateway;

    public static TheoryData<string, byte[]> MalformedFrames => new()
    {
        { "response end truncated", [(byte)FrameType.ResponseEnd, 1, 2, 3] },
        { "response body without a full id", [(byte)FrameType.ResponseBody, 1, 2] },
        { "status 0", [.. Id(FrameType.ResponseHead, 1), 0, 0, 0] },
        { "10,000 headers", [.. Id(FrameType.ResponseHead, 1), 200, 0, 0x90, 0x4E] },
        { "string longer than the frame", [.. Id(FrameType.ResponseHead, 1), 200, 0, 1, 100, (byte)'a', (byte)'b'] },
        { "varint that never ends", [.. Id(FrameType.ResponseHead, 1), 200, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] },
        { "header value not UTF-8", [.. Id(FrameType.ResponseHead, 1), 200, 0, 1, 1, (byte)'a', 1, 0xFF] },
        { "ping truncated", [(byte)FrameType.Ping, 1, 2] },
        { "models update not JSON", [(byte)FrameType.ModelsUpdate, (byte)'{', (byte)'x'] },
        { "models update null", [(byte)FrameType.ModelsUpdate, .. "null"u8] },
        { "batch with a truncated frame", [(byte)FrameType.Batch, 0x10, 1] },
        { "batch with an empty frame", [(byte)FrameType.Batch, 0] },
        { "batch inside a batch", [(byte)FrameType.Batch, 2, (byte)FrameType.Batch, 0] },
        { "empty message", [] },
        { "welcome (gateway to agent)", [(byte)FrameType.Welcome, .. "{}"u8] },
        { "request head (gateway to agent)", [.. Id(FrameType.RequestHead, 1), 1] },
        { "window update (gateway to agent)", [.. Id(FrameType.WindowUpdate, 1), 0, 1, 0, 0] },
        { "go away (gateway to agent)", [(byte)FrameType.GoAway, .. "{}"u8] },
        { "type 0", [0, 1, 2, 3] },
        { "type 255", [255] },
    };

    public static TheoryData<string, byte[], WebSocketCloseStatus> MalformedHellos => new()
    {
        { "not JSON", [(byte)FrameType.Hello, (byte)'{'], WebSocketCloseStatus.ProtocolError },
        { "JSON null", [(byte)FrameType.Hello, .. "null"u8], WebSocketCloseStatus.ProtocolError },
        { "JSON array", [(byte)FrameType.Hello, .. "[1,2]"u8], WebSocketCloseStatus.ProtocolError },
        { "required fields missing", [(byte)FrameType.Hello, .. "{}"u8], WebSocketCloseStatus.ProtocolError },
        { "version is a string", [(byte)FrameType.Hello, .. """{"protocolVersion":"one","productVersion":"x","agentId":"a","capacity":1,"models":[]}"""u8], WebSocketCloseStatus.ProtocolError },
        { "hello without a body", [(byte)FrameType.Hello], WebSocketCloseStatus.ProtocolError },
        { "models null", [(byte)FrameType.Hello, .. """{"protocolVersion":1,"productVersion":"x","agentId":"a","capacity":1,"models":null}"""u8], WebSocketCloseStatus.PolicyViolation },
    };

    public static TheoryData<string, HelloMessage> InvalidHellos => new()
    {
        { "path in the agent id", RawAgent.Hello("../../etc/passwd", "m") },
        { "agent id of 200 characters", RawAgent.Hello(new string('a', 200), "m") },
        { "empty agent id", RawAgent.Hello(string.Empty, "m") },
        { "capacity 0", RawAgent.Hello("cap-zero", "m") with { Capacity = 0 } },
        { "capacity of a million", RawAgent.Hello("cap-million", "m") with { Capacity = 1_000_000 } },
        { "name with a control character", RawAgent.Hello("ctl-name", "m") with { Name = "evil\u001b[2Jname" } },
        { "name of 300 characters", RawAgent.Hello("long-name", "m") with { Name = new string('n', 300) } },
        { "model name of 10 KB", HelloServing("long-model", new string('m', 10 * 1024)) },
        { "model name with a newline", HelloServing("ctl-model", "a\nb") },
        { "blank model name", HelloServing("blank-model", "  ") },
        { "1,025 models", RawAgent.Hello("many-models", [.. Enumerable.Range(0, 1025).Select(i => $"m{i}")]) },
        { "agent id forging a log line", RawAgent.Hello("x\nInformation Forged: Agent admin connected", "m") },
        { "product version of 10 KB with a control character", RawAgent.Hello("long-version", "m") with { ProductVersion = "1.0\u001b[2J" + new string('v', 10 * 1024) } },
    };

    [Theory]
    [MemberData(nameof(MalformedFrames))]
    public async Task Agent_MalformedOrMisdirectedFrame_ClosesThatSocketWithProtocolError(string what, byte[] frame)
    {
        var model = GatewayFixture.UniqueModel("bad-frame");
        await using var raw = await WelcomedAsync("bad-frame-" + Guid.NewGuid().ToString("N")[..6], model);

        await raw.SendRawAsync(frame);

        Assert.True(WebSocketCloseStatus.ProtocolError == await raw.WaitForCloseAsync(Timeout), what);
        await WaitWithdrawnAsync(model);
        await fixture.StillServesAsync();
    }

    [Theory]
    [MemberData(nameof(MalformedHellos))]
    public async Task Agent_MalformedHello_ClosesWithProtocolErrorOrRejectAndNothingRegisters(string what, byte[] hello, WebSocketCloseStatus expected)
    {
        await using var raw = await fixture.ConnectRawAgentAsync();

        await raw.SendRawAsync(hello);

        var status = await raw.WaitForCloseAsync(Timeout);
        Assert.True(expected == status, $"{what}: closed with {status}");
        await fixture.StillServesAsync();
    }

    [Theory]
    [MemberData(nameof(InvalidHellos))]
    public async Task Agent_HelloWithInvalidClaims_IsRejectedWithTheReasonThenClosed(string what, HelloMessage hello)
    {
        var mark = Gateway.Log.Lines.Count;
        await using var raw = await fixture.ConnectRawAgentAsync();
        await raw.SendAsync(FrameCodec.Json(FrameType.Hello, hello, ProtocolJsonContext.Default.HelloMessage));

        var frame = await raw.ReceiveFrameAsync(FrameType.Reject, Timeout);

        Assert.True(frame is not null, what);
        var reject = FrameCodec.ReadJson(frame, ProtocolJsonContext.Default.RejectMessage);
        Assert.Equal(RejectMessage.InvalidHello, reject.Code);
        Assert.False(string.IsNullOrWhiteSpace(reject.Reason));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await raw.WaitForCloseAsync(Timeout));
        Assert.Contains(Gateway.Log.Lines.Skip(mark), l => l.Contains("invalid_hello", StringComparison.Ordinal));
        AssertNoForgedLogLines(mark);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_OldProtocolWithAHostileProductVersion_IsRejectedAndTheLogStaysClean()
    {
        var mark = Gateway.Log.Lines.Count;
        await using var raw = await fixture.ConnectRawAgentAsync();
        await raw.SendHelloAsync(RawAgent.Hello("old-hostile", "m") with { ProtocolVersion = 0, ProductVersion = "0.0.1\nInformation Forged: all good \u001b[2J" + new string('v', 10 * 1024) });

        var frame = await raw.ReceiveFrameAsync(FrameType.Reject, Timeout);

        Assert.NotNull(frame);
        Assert.Equal(RejectMessage.VersionMismatch, FrameCodec.ReadJson(frame, ProtocolJsonContext.Default.RejectMessage).Code);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await raw.WaitForCloseAsync(Timeout));
        AssertNoForgedLogLines(mark);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_ClosingWithAForgedDescription_IsLoggedWithoutIt()
    {
        var mark = Gateway.Log.Lines.Count;
        await using var raw = await WelcomedAsync("close-forger-" + Guid.NewGuid().ToString("N")[..6], GatewayFixture.UniqueModel("forger"));

        await raw.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye\nInformation Forged: ok \u001b[2J", CancellationToken.None);

        await Eventually.UntilAsync(
            () => Gateway.Log.Lines.Any(l => l.Contains("close-forger", StringComparison.Ordinal) && l.Contains("disconnected", StringComparison.Ordinal)),
            Timeout,
            "the disconnect is logged");
        AssertNoForgedLogLines(mark);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_HelloTwice_ClosesWithProtocolError()
    {
        var model = GatewayFixture.UniqueModel("twice");
        await using var raw = await WelcomedAsync("twice-" + Guid.NewGuid().ToString("N")[..6], model);

        await raw.SendHelloAsync(RawAgent.Hello("someone-else", model));

        Assert.Equal(WebSocketCloseStatus.ProtocolError, await raw.WaitForCloseAsync(Timeout));
        await WaitWithdrawnAsync(model);
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public async Task Agent_OversizedMessage_ClosesWith1009AndTheLogSaysSo(bool beforeHello, bool fragmented)
    {
        await using var raw = beforeHello
            ? await fixture.ConnectRawAgentAsync()
            : await WelcomedAsync("big-" + Guid.NewGuid().ToString("N")[..6], GatewayFixture.UniqueModel("big"));
        var chunk = new byte[64 * 1024];
        chunk[0] = (byte)FrameType.ResponseBody;

        try
        {
            if (fragmented)
            {
                // A message of 64 KiB fragments that never ends: the gateway must stop it at the frame limit.
                for (var i = 0; i < 64; i++)
                {
                    await raw.Socket.SendAsync(chunk, WebSocketMessageType.Binary, endOfMessage: false, CancellationToken.None);
                }
            }
            else
            {
                await raw.SendRawAsync(new byte[2 * 1024 * 1024]);
            }
        }
        catch (WebSocketException)
        {
            // The gateway may close while the rest is still being sent.
        }

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await raw.WaitForCloseAsync(Timeout));
        await Eventually.UntilAsync(() => Gateway.Log.All.Contains("FrameTooLarge", StringComparison.Ordinal), Timeout, "the log names the oversized frame");
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_Advertising100000Models_IsClosedAtTheFrameLimitAndMemoryStaysFlat()
    {
        var hello = RawAgent.Hello("flood", [.. Enumerable.Range(0, 100_000).Select(i => $"flood-model-{i}")]);
        var bytes = FrameCodec.Json(FrameType.Hello, hello, ProtocolJsonContext.Default.HelloMessage);
        var message = bytes.Span.ToArray();
        bytes.Return();

        await ManagedMemory.AssertBoundedAsync(
            async _ =>
            {
                await using var raw = await fixture.ConnectRawAgentAsync();
                try
                {
                    await raw.SendRawAsync(message);
                }
                catch (WebSocketException)
                {
                }

                Assert.Equal(WebSocketCloseStatus.MessageTooBig, await raw.WaitForCloseAsync(Timeout));
            },
            rounds: 30,
            warmups: 5);

        using var client = fixture.CreateClient();
        using var listed = await client.GetAsync(new Uri("/v1/models/flood-model-1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, listed.StatusCode);
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData(1025, 8)]
    [InlineData(1, 10 * 1024)]
    public async Task Agent_ModelsUpdateTooManyOrTooLong_ClosesAndWithdrawsItsModels(int count, int nameLength)
    {
        var model = GatewayFixture.UniqueModel("update");
        await using var raw = await WelcomedAsync("update-" + Guid.NewGuid().ToString("N")[..6], model);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);
        var models = Enumerable.Range(0, count)
            .Select(i => new ModelAdvert(i.ToString("D" + nameLength, System.Globalization.CultureInfo.InvariantCulture), JsonDocument.Parse("{}").RootElement))
            .ToArray();

        await raw.SendAsync(FrameCodec.Json(FrameType.ModelsUpdate, new ModelsUpdateMessage(models), ProtocolJsonContext.Default.ModelsUpdateMessage));

        Assert.Equal(WebSocketCloseStatus.ProtocolError, await raw.WaitForCloseAsync(Timeout));
        await WaitWithdrawnAsync(model);
        Assert.Contains(Gateway.Log.Lines, l => l.Contains("invalid model update", StringComparison.Ordinal));
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_AnswersForARequestIdItWasNeverGiven_AreIgnoredAndTheSocketStaysUp()
    {
        var model = GatewayFixture.UniqueModel("stray");
        await using var raw = await WelcomedAsync("stray-" + Guid.NewGuid().ToString("N")[..6], model);
        const long Stray = 987_654_321;

        await raw.SendAsync(FrameCodec.ResponseHead(new ResponseHead(Stray, 200, [new HeaderField("Content-Type", "application/json")])));
        await raw.SendAsync(FrameCodec.ResponseBody(Stray, "{\"injected\":true}"u8));
        await raw.SendAsync(FrameCodec.ResponseEnd(new ResponseEnd(Stray, null, null)));
        await raw.SendAsync(FrameCodec.ResponseEnd(new ResponseEnd(-1, "upstream_error", "nothing")));

        await AssertAliveAsync(raw);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);
        Assert.Contains(Gateway.Log.Lines, l => l.Contains($"{Stray}, which is not in flight", StringComparison.Ordinal));
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_SameAgentIdOnTwoSockets_IsOneInstanceAndEitherSocketLeavingKeepsTheOther()
    {
        var model = GatewayFixture.UniqueModel("twin");
        var agentId = "twin-" + Guid.NewGuid().ToString("N")[..6];
        var first = await WelcomedAsync(agentId, model);
        await using var second = await WelcomedAsync(agentId, model);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);
        var snapshot = await Gateway.SnapshotAsync(model);
        Assert.Single(snapshot.Instances);

        await first.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await first.DisposeAsync();
        await AssertAliveAsync(second);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);

        await second.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await WaitWithdrawnAsync(model);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_SocketsThatNeverSayHello_AreClosedAfterTheHandshakeTimeoutAndMemoryStaysFlat()
    {
        await ManagedMemory.AssertBoundedAsync(
            async _ =>
            {
                var silent = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => fixture.ConnectRawAgentAsync()));
                await fixture.StillServesAsync();
                foreach (var raw in silent)
                {
                    await using (raw)
                    {
                        Assert.True(await ClosedWithinAsync(raw, TimeSpan.FromSeconds(6)), "a silent socket is closed after the handshake timeout");
                    }
                }
            },
            rounds: 1);

        Assert.Contains(Gateway.Log.Lines, l => l.Contains("no hello within 2 s", StringComparison.Ordinal));
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_SendingPastItsFlowControlWindow_FailsThatRequestOnlyAndTheLogSaysSo()
    {
        var model = GatewayFixture.UniqueModel("overrun");
        await using var raw = await WelcomedAsync("overrun-" + Guid.NewGuid().ToString("N")[..6], model);
        await TestAgent.WaitForModelAsync(Gateway, model, 1);

        using var client = fixture.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}","stream":true}""", Encoding.UTF8, "application/json"),
        };
        var call = client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var head = await raw.ReceiveFrameAsync(FrameType.RequestHead, Timeout);
        var id = FrameCodec.ReadRequestHead(head, out _).RequestId;
        await raw.SendAsync(FrameCodec.ResponseHead(new ResponseHead(id, 200, [new HeaderField("Content-Type", "text/event-stream")])));

        // The caller reads nothing past the headers; the agent ignores the window and keeps sending until the
        // gateway gives up on that request.
        var chunk = Encoding.ASCII.GetBytes("data: " + new string('x', 32 * 1024 - 8) + "\n\n");
        var cancelled = raw.ReceiveFrameAsync(FrameType.Cancel, TimeSpan.FromSeconds(20));
        for (var sent = 0; !cancelled.IsCompleted && sent < 2048; sent++)
        {
            await raw.SendAsync(FrameCodec.ResponseBody(id, chunk));
        }

        var cancel = await cancelled;
        using var response = await call;

        Assert.NotNull(cancel);
        Assert.Equal(id, FrameCodec.ReadRequestId(cancel));
        Assert.Equal(WebSocketState.Open, raw.Socket.State);
        Assert.Contains(Gateway.Log.Lines, l => l.Contains("flow-control window", StringComparison.Ordinal));

        // The caller's stream ends (an SSE error or a cut connection), and everyone else is served.
        var drained = Task.Run(async () =>
        {
            try
            {
                await response.Content.CopyToAsync(Stream.Null);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
            }
        });
        await drained.WaitAsync(TimeSpan.FromSeconds(10));
        await fixture.StillServesAsync();
    }

    /// <summary>What an agent claims never reaches a log line raw: no forged lines, no terminal escapes, no floods.</summary>
    private void AssertNoForgedLogLines(int fromLine)
    {
        var lines = Gateway.Log.Lines.Skip(fromLine).ToArray();
        Assert.DoesNotContain(lines, l => l.Contains("\nInformation Forged", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains('\u001b', StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(new string('v', 1024), StringComparison.Ordinal) || l.Contains(new string('m', 1024), StringComparison.Ordinal));
    }

    private async Task<RawAgent> WelcomedAsync(string agentId, params string[] models)
    {
        var raw = await fixture.ConnectRawAgentAsync();
        await raw.SendHelloAsync(RawAgent.Hello(agentId, models));
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, Timeout));
        return raw;
    }

    /// <summary>A ping from the agent is answered with a pong: the socket is up and read.</summary>
    private static async Task AssertAliveAsync(RawAgent raw)
    {
        await raw.SendAsync(FrameCodec.Ping(FrameType.Ping, 42));
        var pong = await raw.ReceiveFrameAsync(FrameType.Pong, Timeout);
        Assert.NotNull(pong);
        Assert.Equal(42, BinaryPrimitives.ReadInt64LittleEndian(pong.AsSpan(1)));
    }

    private async Task WaitWithdrawnAsync(string model)
    {
        using var client = fixture.CreateClient();
        await Eventually.UntilAsync(
            async () => (await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative))).StatusCode == HttpStatusCode.NotFound,
            Timeout,
            $"model {model} is withdrawn");
    }

    /// <summary>True when the gateway closed (or aborted) the socket before the deadline.</summary>
    private static async Task<bool> ClosedWithinAsync(RawAgent raw, TimeSpan timeout)
    {
        try
        {
            await raw.WaitForCloseAsync(timeout);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A hello advertising <paramref name="model"/> as is (RawAgent.Hello puts it in JSON text, which it may break).</summary>
    private static HelloMessage HelloServing(string agentId, string model) =>
        RawAgent.Hello(agentId) with { Models = [new ModelAdvert(model, JsonDocument.Parse("{}").RootElement)] };

    private static byte[] Id(FrameType type, long id)
    {
        var bytes = new byte[9];
        bytes[0] = (byte)type;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), id);
        return bytes;
    }
}
