using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Synapse.Protocol.Frames;

namespace Synapse.Protocol.Transport;

/// <summary>The reader: whole binary messages off the socket, batches unpacked, pings answered, the rest handed on.</summary>
public sealed partial class FramedConnection
{
    private async Task ReceiveLoopAsync(Func<Frame, ValueTask> onFrame, CancellationToken token)
    {
        while (true)
        {
            var frame = await ReceiveFrameAsync(token);
            if (frame.IsEmpty)
            {
                SetReason(ConnectionClosedReason.ClosedByPeer);
                CloseDescription ??= _socket.CloseStatusDescription;
                return;
            }

            Volatile.Write(ref _lastReceived, Environment.TickCount64);
            if (Volatile.Read(ref _closing) == 1)
            {
                // We said goodbye: whatever the peer still sends is not protocol (a refused agent must not get a
                // second hello in, nor keep us answering its pings).
                frame.Return();
                continue;
            }

            if (frame.Type == FrameType.Batch)
            {
                await DispatchBatchAsync(frame, onFrame);
            }
            else
            {
                await DispatchAsync(frame, onFrame);
            }
        }
    }

    private async ValueTask DispatchAsync(Frame frame, Func<Frame, ValueTask> onFrame)
    {
        switch (frame.Type)
        {
            case FrameType.Ping:
                var stamp = FrameCodec.ReadPing(frame.Span);
                frame.Return();
                QueuePong(stamp);
                break;
            case FrameType.Pong:
                var sent = FrameCodec.ReadPing(frame.Span);
                frame.Return();
                Volatile.Write(ref _roundTripMs, Math.Max(0, Environment.TickCount64 - sent));
                break;
            case FrameType.Batch:
                frame.Return();
                throw new FrameFormatException("a batch inside a batch");
            default:
                await onFrame(frame);
                break;
        }
    }

    /// <summary>Hands each frame of a batch on as if it had come alone (each in its own pooled buffer).</summary>
    private async ValueTask DispatchBatchAsync(Frame batch, Func<Frame, ValueTask> onFrame)
    {
        var position = 1;
        try
        {
            while (position < batch.Length)
            {
                var reader = new FrameReader(batch.Span, position);
                var length = (int)reader.ReadVarUInt();
                position = reader.Position;
                if (length <= 0 || length > batch.Length - position)
                {
                    throw new FrameFormatException("a frame in a batch is truncated");
                }

                var buffer = ArrayPool<byte>.Shared.Rent(length);
                batch.Buffer.AsSpan(position, length).CopyTo(buffer);
                position += length;
                await DispatchAsync(new Frame(buffer, length), onFrame);
            }
        }
        finally
        {
            batch.Return();
        }
    }

    private async ValueTask<Frame> ReceiveFrameAsync(CancellationToken token)
    {
        // Wait for the next message without holding a buffer: an idle socket (most of them, most of the time)
        // then costs no pooled memory.
        var waited = await _socket.ReceiveAsync(Memory<byte>.Empty, token);
        if (waited.MessageType == WebSocketMessageType.Close)
        {
            return default;
        }

        if (waited.EndOfMessage)
        {
            throw new FrameFormatException("empty message");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBuffer);
        var count = 0;
        try
        {
            while (true)
            {
                if (count == buffer.Length)
                {
                    if (buffer.Length >= _options.MaxFrameBytes)
                    {
                        throw new FrameTooLargeException($"message exceeds {_options.MaxFrameBytes} bytes");
                    }

                    var grown = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxFrameBytes));
                    buffer.AsSpan(0, count).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = grown;
                }

                var room = Math.Min(buffer.Length, _options.MaxFrameBytes) - count;
                if (room <= 0)
                {
                    throw new FrameTooLargeException($"message exceeds {_options.MaxFrameBytes} bytes");
                }

                var result = await _socket.ReceiveAsync(buffer.AsMemory(count, room), token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return default;
                }

                if (result.MessageType != WebSocketMessageType.Binary)
                {
                    throw new UnsupportedFrameException("only binary messages are accepted");
                }

                count += result.Count;
                if (result.EndOfMessage)
                {
                    break;
                }
            }

            if (count == 0)
            {
                throw new FrameFormatException("empty message");
            }

            return new Frame(buffer, count);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
