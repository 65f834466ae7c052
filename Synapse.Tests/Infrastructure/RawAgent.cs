using System.Net.WebSockets;
using System.Text.Json;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;

namespace Synapse.Tests.Infrastructure;

/// <summary>A hand-driven agent socket, for sending the gateway exactly the frames a test wants (good or bad).</summary>
public sealed class RawAgent : IAsyncDisposable
{
    private RawAgent(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    public static async Task<RawAgent> ConnectAsync(Uri url, string? key = null, Action<ClientWebSocketOptions>? configure = null, HttpMessageInvoker? invoker = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.CollectHttpResponseDetails = true;
        if (key is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {key}");
        }

        configure?.Invoke(socket.Options);
        await socket.ConnectAsync(url, invoker, CancellationToken.None);
        return new RawAgent(socket);
    }

    public static HelloMessage Hello(string agentId, params string[] models) => new()
    {
        ProtocolVersion = ProtocolVersion.Current,
        ProductVersion = ProtocolVersion.Product,
        AgentId = agentId,
        Name = agentId,
        Capacity = 4,
        Models = [.. models.Select(m => new ModelAdvert(m, JsonDocument.Parse($$"""{"id":"{{m}}","object":"model"}""").RootElement))],
    };

    public async Task SendAsync(Frame frame)
    {
        await Socket.SendAsync(frame.Memory, WebSocketMessageType.Binary, true, CancellationToken.None);
        frame.Return();
    }

    public async Task SendHelloAsync(HelloMessage hello)
    {
        await SendAsync(FrameCodec.Json(FrameType.Hello, hello, ProtocolJsonContext.Default.HelloMessage));
    }

    /// <summary>
    /// One message, sent in 64 KiB fragments: a client socket masks each frame in a pooled buffer of its size, and
    /// multi-megabyte rentals would sit in the array pool's per-thread slots and read as growth of the gateway.
    /// </summary>
    public async Task SendRawAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Binary)
    {
        const int fragment = 64 * 1024;
        var offset = 0;
        do
        {
            var length = Math.Min(fragment, bytes.Length - offset);
            await Socket.SendAsync(bytes.AsMemory(offset, length), type, offset + length == bytes.Length, CancellationToken.None);
            offset += length;
        }
        while (offset < bytes.Length);
    }

    /// <summary>The next whole message, or null when the gateway closed the socket.</summary>
    public async Task<byte[]?> ReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[1 << 20];
        var count = 0;
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer.AsMemory(count), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                return buffer[..count];
            }
        }
    }

    /// <summary>Reads until a frame of <paramref name="type"/> arrives (answering nothing); null if the socket closes first.</summary>
    public async Task<byte[]?> ReceiveFrameAsync(FrameType type, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var frame = await ReceiveAsync(deadline - DateTime.UtcNow);
            if (frame is null || (FrameType)frame[0] == type)
            {
                return frame;
            }
        }

        throw new TimeoutException($"no {type} frame within {timeout}");
    }

    /// <summary>Reads until the gateway closes the socket, and answers its close as an agent would; returns the close status.</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync(TimeSpan timeout)
    {
        try
        {
            while (await ReceiveAsync(timeout) is not null)
            {
            }
        }
        catch (WebSocketException)
        {
            return null;
        }

        // Without the answer the gateway waits out its close timeout before it lets go of the socket.
        if (Socket.State == WebSocketState.CloseReceived)
        {
            try
            {
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }
        }

        return Socket.CloseStatus;
    }

    public async ValueTask DisposeAsync()
    {
        Socket.Abort();
        Socket.Dispose();
        await Task.CompletedTask;
    }
}
