using System.Diagnostics;
using System.Net;
using System.Text;
using Synapse.Protocol.Frames;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// docs/protocol.md promises that a caller whose agent socket dies before the response head gets an answer (a retry
/// elsewhere or a clean error) within about a second, whatever the model's reconnect grace for new requests. The
/// gateway here keeps that grace at its default (5 s).
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class FailoverTimingTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Agent_SocketDyingBeforeTheResponseHeadWithNoOtherInstance_CallerIsAnsweredWithinTheFailoverWait()
    {
        var model = GatewayFixture.UniqueModel("dies");
        var raw = await RawAgent.ConnectAsync(_gateway.WsUrl);
        await raw.SendHelloAsync(RawAgent.Hello("dies-" + Guid.NewGuid().ToString("N")[..6], model));
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));
        await TestAgent.WaitForModelAsync(_gateway, model, 1);
        using var client = _gateway.CreateClient();
        var call = client.PostAsync(
            new Uri("/v1/chat/completions", UriKind.Relative),
            new StringContent($$"""{"model":"{{model}}","messages":[]}""", Encoding.UTF8, "application/json"));
        Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.RequestHead, TimeSpan.FromSeconds(5)));

        var clock = Stopwatch.StartNew();
        raw.Socket.Abort();
        await raw.DisposeAsync();
        using var response = await call;

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("agent_disconnected", await Json.ReadErrorCodeAsync(response));

        // FailoverWait is 1 s; the reconnect grace (5 s) would answer after 5.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"answered after {clock.Elapsed.TotalSeconds:0.00} s");
    }
}
