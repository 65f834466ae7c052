using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Synapse.Tests.Hostile;

/// <summary>
/// HTTP broken below JSON, sent by hand over TCP: lying or missing lengths, bodies that never end, clients that
/// trickle, header floods. Each gets an answer or a closed connection within a bounded time, and the gateway keeps
/// serving. (A chunked body over the limit is in EndToEnd/ErrorTests.)
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class BrokenHttpTests(HostileFixture fixture)
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    private string Head(string extra) =>
        $"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {HostileFixture.ApiKey}\r\nContent-Type: application/json\r\n{extra}\r\n";

    [Fact]
    public async Task Post_ContentLengthOverTheLimitAndNoBody_Answers413AtOnce()
    {
        var elapsed = Stopwatch.StartNew();
        var response = await RawHttp.ExchangeAsync(fixture.Gateway, Head("Content-Length: 100000000000\r\n"));

        Assert.NotNull(response);
        Assert.Equal(413, response.Status);
        Assert.Equal("request_too_large", response.ErrorCode);
        Assert.True(elapsed.Elapsed < Prompt, $"answered after {elapsed.Elapsed.TotalSeconds:0.0} s");
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Post_BodyOverTheLimitSentWhole_Answers413AndTheSameConnectionServesTheNextRequest()
    {
        await using var http = await RawHttp.ConnectAsync(fixture.Gateway);
        var body = "{\"model\":\"m\",\"pad\":\"" + new string('x', HostileFixture.MaxBodyBytes + 1000) + "\"}";
        await http.TrySendAsync(Head($"Content-Length: {body.Length}\r\n") + body);

        // The caller finished sending and reads the answer, not a reset: its body was read and thrown away.
        var refused = await http.ReadResponseAsync(Prompt);
        Assert.NotNull(refused);
        Assert.Equal(413, refused.Status);
        Assert.Equal("request_too_large", refused.ErrorCode);

        Assert.True(await http.TrySendAsync($"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {HostileFixture.ApiKey}\r\n\r\n"));
        var next = await http.ReadResponseAsync(Prompt);
        Assert.NotNull(next);
        Assert.Equal(200, next.Status);
    }

    [Fact]
    public async Task Post_ExpectContinueOverTheLimit_Answers413WithoutAskingForTheBody()
    {
        var response = await RawHttp.ExchangeAsync(fixture.Gateway, Head("Content-Length: 50000000\r\nExpect: 100-continue\r\n"));

        Assert.NotNull(response);
        Assert.Equal(413, response.Status);
        Assert.Equal("request_too_large", response.ErrorCode);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Post_ChunkedBodyThatNeverEnds_Answers413AtTheLimitAndMemoryStaysFlat()
    {
        var chunk = Encoding.ASCII.GetBytes($"10000\r\n{new string(' ', 0x10000)}\r\n");
        await ManagedMemory.AssertBoundedAsync(
            async _ =>
            {
                await using var http = await RawHttp.ConnectAsync(fixture.Gateway);
                await http.TrySendAsync(Head("Transfer-Encoding: chunked\r\n") + "1\r\n{\r\n");

                // Far more than the 1 MiB limit, for as long as the gateway takes it: it must stop it, not buffer it.
                for (var sent = 0; sent < 64 && await http.TrySendAsync(chunk); sent++)
                {
                }

                var response = await http.ReadResponseAsync(Prompt);
                Assert.NotNull(response);
                Assert.Equal(413, response.Status);
                Assert.Equal("request_too_large", response.ErrorCode);
            },
            rounds: 20);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Post_ChunkedBodyThatStalls_IsAnswered408OrClosedWithinTheGracePeriodAndMemoryStaysFlat()
    {
        await ManagedMemory.AssertBoundedAsync(
            async _ =>
            {
                // Ten callers at once that start a chunked body and then send nothing more.
                var stalled = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
                {
                    var http = await RawHttp.ConnectAsync(fixture.Gateway);
                    await http.TrySendAsync(Head("Transfer-Encoding: chunked\r\n") + "5\r\n{\"mod\r\n");
                    return http;
                }));
                var elapsed = Stopwatch.StartNew();
                await fixture.StillServesAsync();
                foreach (var http in stalled)
                {
                    await using (http)
                    {
                        await AssertTimedOutAsync(http);
                    }
                }

                Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(6), $"the stalled bodies were cut off after {elapsed.Elapsed.TotalSeconds:0.0} s");
            },
            rounds: 1);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Post_SlowBody_IsAnswered408OrClosedWhileOthersAreServed()
    {
        await using var http = await RawHttp.ConnectAsync(fixture.Gateway);
        await http.TrySendAsync(Head("Content-Length: 1000\r\n") + "{\"model\":");
        var elapsed = Stopwatch.StartNew();

        // One byte every 300 ms: far below the minimum rate, and never finishing in time.
        using var trickle = new CancellationTokenSource();
        var trickling = Task.Run(async () =>
        {
            while (!trickle.IsCancellationRequested && await http.TrySendAsync(" "))
            {
                await Task.Delay(300, trickle.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        });
        await fixture.StillServesAsync();

        await AssertTimedOutAsync(http);
        await trickle.CancelAsync();
        await trickling;
        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(6), $"the slow body was cut off after {elapsed.Elapsed.TotalSeconds:0.0} s");
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task SlowHeaders_ConnectionIsClosedAfterTheHeaderTimeoutWhileOthersAreServed()
    {
        await using var http = await RawHttp.ConnectAsync(fixture.Gateway);
        await http.TrySendAsync("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        var elapsed = Stopwatch.StartNew();
        using var trickle = new CancellationTokenSource();
        var trickling = Task.Run(async () =>
        {
            for (var i = 0; !trickle.IsCancellationRequested && await http.TrySendAsync($"X-Slow-{i}: 1\r\n"); i++)
            {
                await Task.Delay(200, trickle.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        });
        await fixture.StillServesAsync();

        var response = await http.ReadResponseAsync(Prompt);
        Assert.True(response is null || response.Status == 408, $"answered {response?.Status}");
        Assert.True(await http.WaitClosedAsync(Prompt), "the slow-header connection is closed");
        await trickle.CancelAsync();
        await trickling;
        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(5), $"the slow headers were cut off after {elapsed.Elapsed.TotalSeconds:0.0} s");
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Post_ContentLengthThatLies_CallerGoneIsHandledAndOthersAreServed()
    {
        await using var http = await RawHttp.ConnectAsync(fixture.Gateway);
        await http.TrySendAsync(Head("Content-Length: 1000\r\n") + $"{{\"model\":\"{fixture.Model}\"}}");
        http.ShutdownSend();

        var response = await http.ReadResponseAsync(Prompt);

        Assert.True(response is null || response.Status == 400, $"answered {response?.Status}");
        Assert.True(await http.WaitClosedAsync(Prompt));
        Assert.DoesNotContain(fixture.Gateway.Log.Lines, l => l.StartsWith("Error", StringComparison.Ordinal));
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData("zz\r\n{}\r\n0\r\n\r\n")]
    [InlineData("2\r\n{}XX0\r\n\r\n")]
    [InlineData("ffffffffffffffffffff\r\n")]
    public async Task Post_BrokenChunkFraming_Answers400(string chunks)
    {
        var response = await RawHttp.ExchangeAsync(fixture.Gateway, Head("Transfer-Encoding: chunked\r\n") + chunks);

        Assert.NotNull(response);
        Assert.True(response.Status == 400, $"answered {response.Status}: {string.Join(" | ", response.Headers.Select(h => h.Key + "=" + h.Value))} {response.Body}");
        Assert.Equal("invalid_body", response.ErrorCode);
        await fixture.StillServesAsync();
    }

    [Fact]
    public async Task Post_ContentLengthAndChunkedTogether_NeverSmugglesASecondRequest()
    {
        // The classic smuggling shape: a front end honouring Content-Length would see one request, a back end
        // honouring chunked two. The gateway must not answer a second, smuggled request on this connection.
        var smuggled = "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        var body = "0\r\n\r\n" + smuggled;
        var request = Head($"Content-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\nTransfer-Encoding: chunked\r\n") + body;

        await using var http = await RawHttp.ConnectAsync(fixture.Gateway);
        await http.TrySendAsync(request);
        var first = await http.ReadResponseAsync(Prompt);
        var second = await http.ReadResponseAsync(TimeSpan.FromSeconds(2));

        Assert.NotNull(first);
        Assert.Equal(400, first.Status);
        Assert.Null(second);
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData(1000, 20)]
    [InlineData(1, 70 * 1024)]
    [InlineData(101, 1)]
    public async Task HeaderFlood_Answers431AndCloses(int count, int valueLength)
    {
        var headers = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            headers.Append(CultureInfo.InvariantCulture, $"X-Flood-{i}: {new string('f', valueLength)}\r\n");
        }

        await using var http = await RawHttp.ConnectAsync(fixture.Gateway);
        await http.TrySendAsync(Head(headers.ToString() + "Content-Length: 2\r\n") + "{}");
        var response = await http.ReadResponseAsync(Prompt);

        Assert.NotNull(response);
        Assert.Equal(431, response.Status);
        Assert.True(await http.WaitClosedAsync(Prompt));
        await fixture.StillServesAsync();
    }

    [Theory]
    [InlineData("HELLO\r\n\r\n", 400)]
    [InlineData("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a\u0000b\r\n\r\n", 400)]
    [InlineData("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n", 400)]
    [InlineData("GET /v1/models HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 505)]
    [InlineData("GET /v1/models HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)]
    public async Task GarbledRequest_IsAnsweredWithAnErrorStatusAndClosed(string request, int expected)
    {
        await using var http = await RawHttp.ConnectAsync(fixture.Gateway);
        await http.TrySendAsync(request);
        var response = await http.ReadResponseAsync(Prompt);

        Assert.NotNull(response);
        Assert.Equal(expected, response.Status);
        Assert.True(await http.WaitClosedAsync(Prompt));
        await fixture.StillServesAsync();
    }

    /// <summary>A caller whose body stopped: 408 in OpenAI's shape, or at least a closed connection.</summary>
    private static async Task AssertTimedOutAsync(RawHttp http)
    {
        var response = await http.ReadResponseAsync(TimeSpan.FromSeconds(8));
        if (response is not null)
        {
            Assert.Equal(408, response.Status);
            Assert.Equal("request_timeout", response.ErrorCode);
        }

        Assert.True(await http.WaitClosedAsync(Prompt), "the connection is closed");
    }
}
