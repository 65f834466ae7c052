using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;

namespace Synapse.Tests.Hostile;

/// <summary>
/// A hand-driven gateway for testing the agent: a bare WebSocket endpoint whose sockets the test scripts frame by
/// frame, good or hostile. The subject under test is the real agent; this only stands in for the other end.
/// </summary>
internal sealed class FakeGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<FakeGatewaySocket> _accepted = Channel.CreateUnbounded<FakeGatewaySocket>();
    private readonly List<FakeGatewaySocket> _all = [];

    private FakeGateway(WebApplication app) => _app = app;

    public Uri WsUrl => new(_app.Urls.First().Replace("http://", "ws://", StringComparison.Ordinal) + "/ws");

    public int Accepted
    {
        get
        {
            lock (_all)
            {
                return _all.Count;
            }
        }
    }

    public static async Task<FakeGateway> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var gateway = new FakeGateway(app);
        app.UseWebSockets();
        app.Map("/ws", gateway.HandleAsync);
        await app.StartAsync();
        return gateway;
    }

    /// <summary>The next socket the agent opens.</summary>
    public async Task<FakeGatewaySocket> AcceptAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await _accepted.Reader.ReadAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_all)
        {
            foreach (var socket in _all)
            {
                socket.Finish();
            }
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }

        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var connection = new FakeGatewaySocket(socket, headers);
        lock (_all)
        {
            _all.Add(connection);
        }

        _accepted.Writer.TryWrite(connection);
        await connection.Done;
    }
}

/// <summary>One agent socket on the <see cref="FakeGateway"/>: every message the agent sent is kept.</summary>
internal sealed class FakeGatewaySocket(WebSocket socket, IReadOnlyDictionary<string, string> requestHeaders)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<byte[]> _pending = new();

    public IReadOnlyDictionary<string, string> RequestHeaders { get; } = requestHeaders;

    /// <summary>Every whole message the agent sent, as it arrived (batches unopened).</summary>
    public List<byte[]> Received { get; } = [];

    public Task Done => _done.Task;

    public WebSocket Socket { get; } = socket;

    public void Finish() => _done.TrySetResult();

    public async Task SendAsync(Frame frame)
    {
        await Socket.SendAsync(frame.Memory, WebSocketMessageType.Binary, true, CancellationToken.None);
        frame.Return();
    }

    public Task SendRawAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Binary) =>
        Socket.SendAsync(bytes, type, true, CancellationToken.None);

    public async Task<HelloMessage> ReceiveHelloAsync(TimeSpan timeout)
    {
        var frame = await ReceiveFrameAsync(FrameType.Hello, timeout) ?? throw new InvalidOperationException("the agent closed before its hello");
        return FrameCodec.ReadJson(frame, ProtocolJsonContext.Default.HelloMessage);
    }

    public Task WelcomeAsync(int maxFrameBytes = ProtocolLimits.DefaultMaxFrameBytes, int protocolVersion = ProtocolVersion.Current) => SendAsync(FrameCodec.Json(
        FrameType.Welcome,
        new WelcomeMessage
        {
            ProtocolVersion = protocolVersion,
            ServerVersion = ProtocolVersion.Product,
            SiloId = "fake-silo",
            ConnectionId = Guid.NewGuid().ToString("N"),
            SiloCount = 1,
            HeartbeatIntervalMs = 5000,
            HeartbeatTimeoutMs = 30_000,
            MaxFrameBytes = maxFrameBytes,
            InitialWindowBytes = 256 * 1024,
        },
        ProtocolJsonContext.Default.WelcomeMessage));

    /// <summary>The next frame of <paramref name="type"/> (batches opened, others skipped), or null once the agent closed.</summary>
    public async Task<byte[]?> ReceiveFrameAsync(FrameType type, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var frame = await NextFrameAsync(cts.Token);
            if (frame is null || (FrameType)frame[0] == type)
            {
                return frame;
            }
        }
    }

    /// <summary>The next frame of any type (batches opened), or null once the agent closed.</summary>
    public async Task<byte[]?> ReceiveNextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await NextFrameAsync(cts.Token);
    }

    /// <summary>True when the agent closed (or dropped) this socket within the deadline.</summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await NextFrameAsync(cts.Token) is not null)
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<byte[]?> NextFrameAsync(CancellationToken cancellationToken)
    {
        while (_pending.Count == 0)
        {
            var message = await ReceiveMessageAsync(cancellationToken);
            if (message is null)
            {
                return null;
            }

            Received.Add(message);
            if ((FrameType)message[0] != FrameType.Batch)
            {
                return message;
            }

            var reader = new FrameReader(message);
            while (reader.Remaining > 0)
            {
                var length = (int)reader.ReadVarUInt();
                _pending.Enqueue(reader.Rest[..length].ToArray());
                reader = new FrameReader(message, reader.Position + length);
            }
        }

        return _pending.Dequeue();
    }

    private async Task<byte[]?> ReceiveMessageAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 20];
        var count = 0;
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Answer the agent's close, as a gateway does, so it need not wait out its close timeout.
                    if (Socket.State == WebSocketState.CloseReceived)
                    {
                        await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }

                    return null;
                }

                count += result.Count;
                if (result.EndOfMessage)
                {
                    return buffer[..count];
                }
            }
        }
        catch (WebSocketException)
        {
            return null;
        }
    }
}
