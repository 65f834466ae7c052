using System.Net;
using System.Text;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// An agent answering with a response head HTTP cannot carry (CR/LF in a value, a 101, framing headers...). The
/// caller gets a clean error in OpenAI's shape or, when another instance exists, its answer; never a bare 500 or an
/// unhandled exception.
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ResponseHeadAbuseTests(HostileFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static TheoryData<string, int, string, string> BadHeads => new()
    {
        { "CR LF in a header value", 200, "X-Evil", "a\r\nSet-Cookie: stolen=1" },
        { "LF in a header value", 200, "X-Evil", "a\nb" },
        { "NUL in a header value", 200, "X-Evil", "a\0b" },
        { "non-ASCII header value", 200, "X-Evil", "caf\u00e9" },
        { "space in a header name", 200, "X Evil", "a" },
        { "colon in a header name", 200, "X:Evil", "a" },
        { "status 101", 101, "Content-Type", "application/json" },
        { "status 100", 100, "Content-Type", "application/json" },
        { "status 999", 999, "Content-Type", "application/json" },
        { "Transfer-Encoding", 200, "Transfer-Encoding", "chunked" },
        { "Connection", 200, "Connection", "close" },
        { "Content-Length not a number", 200, "Content-Length", "12, 13" },
    };

    [Theory]
    [MemberData(nameof(BadHeads))]
    public async Task Agent_InvalidResponseHeadAndNoOtherInstance_CallerGets502InOpenAIShape(string what, int status, string name, string value)
    {
        var model = GatewayFixture.UniqueModel("bad-head");
        await using var raw = await fixture.ConnectRawAgentAsync();
        await raw.SendHelloAsync(RawAgent.Hello("bad-head-" + Guid.NewGuid().ToString("N")[..6], model));
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, Timeout));
        await TestAgent.WaitForModelAsync(fixture.Gateway, model, 1);
        var mark = fixture.Gateway.Log.Lines.Count;
        using var client = fixture.CreateClient();
        var call = client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), Chat(model));

        var head = await raw.ReceiveFrameAsync(FrameType.RequestHead, Timeout);
        var id = FrameCodec.ReadRequestHead(head, out _).RequestId;
        await raw.SendAsync(FrameCodec.ResponseHead(new ResponseHead(id, status, [new HeaderField(name, value)])));
        var cancel = await raw.ReceiveFrameAsync(FrameType.Cancel, Timeout);
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(HttpStatusCode.BadGateway == response.StatusCode, $"{what}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("upstream_invalid_response", await Json.ReadErrorCodeAsync(response));
        Assert.False(response.Headers.Contains("Set-Cookie"), what);
        Assert.NotNull(cancel);
        Assert.Equal(id, FrameCodec.ReadRequestId(cancel));
        var lines = fixture.Gateway.Log.Lines.Skip(mark).ToArray();
        Assert.Contains(lines, l => l.Contains("invalid response head", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Unhandled", StringComparison.Ordinal) || l.Contains('\r', StringComparison.Ordinal));
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Agent_InvalidResponseHeadWithAHealthyInstanceBeside_EveryCallIsServedByTheHealthyOne()
    {
        var model = GatewayFixture.UniqueModel("bad-head-retry");
        await using var upstream = await FakeUpstream.StartAsync("healthy", model);
        await using var healthy = await TestAgent.StartServingAsync(fixture.Gateway, upstream, model, o => o.WsAuthKey = HostileFixture.WsKey);
        await using var raw = await fixture.ConnectRawAgentAsync();
        await raw.SendHelloAsync(RawAgent.Hello("bad-head-twin-" + Guid.NewGuid().ToString("N")[..6], model));
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, Timeout));
        await TestAgent.WaitForModelAsync(fixture.Gateway, model, 2);

        // The hostile instance answers every request it gets with a head carrying CR LF.
        var poisoned = 0;
        using var stop = new CancellationTokenSource();
        var hostile = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var frame = await raw.ReceiveAsync(TimeSpan.FromSeconds(30));
                if (frame is null)
                {
                    return;
                }

                if ((FrameType)frame[0] == FrameType.RequestHead)
                {
                    var id = FrameCodec.ReadRequestHead(frame, out _).RequestId;
                    await raw.SendAsync(FrameCodec.ResponseHead(new ResponseHead(id, 200, [new HeaderField("X-Evil", "a\r\nb")])));
                    Interlocked.Increment(ref poisoned);
                }
            }
        });

        using var client = fixture.CreateClient();
        for (var i = 0; i < 40 && (Volatile.Read(ref poisoned) == 0 || i < 10); i++)
        {
            // A conversation each: one prompt sent 40 times is one conversation, kept on one instance by prefix affinity.
            using var response = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), Chat(model, $"hi {i}"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"call {i}: {(int)response.StatusCode} {body}");
            Assert.Contains("tok0", body, StringComparison.Ordinal);
        }

        stop.Cancel();
        Assert.True(Volatile.Read(ref poisoned) > 0, "the hostile instance was tried at least once");
        await fixture.StillServesAsync();
    }

    private static StringContent Chat(string model, string content = "hi") =>
        new($$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{content}}"}]}""", Encoding.UTF8, "application/json");
}
