using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Synapse.Protocol.Frames;

namespace Synapse.Protocol.Transport;

/// <summary>The writer: one loop drains the queue, coalescing small frames into batches; pongs wait at most one.</summary>
public sealed partial class FramedConnection
{
    private async Task SendLoopAsync(CancellationToken token)
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync(token))
            {
                if (!reader.TryRead(out var frame))
                {
                    continue;
                }

                Prepare(frame);

                // Frames that queued up while the last send was in flight go out as one message: one syscall
                // for a response's head, body and end instead of three.
                if (frame.Length <= MaxBatchedFrameBytes && reader.TryPeek(out var next) && next.Length <= MaxBatchedFrameBytes)
                {
                    await SendBatchAsync(frame, reader, token);
                    continue;
                }

                try
                {
                    await SendMessageAsync(frame.Memory, token);
                }
                finally
                {
                    Dequeued(CostOf(frame));
                    frame.Return();
                }
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(_options.CloseTimeout);
                await _socket.CloseOutputAsync(_closeStatus, _closeDescription, timeout.Token);
            }
        }
        catch (Exception) when (token.IsCancellationRequested || _socket.State is not WebSocketState.Open)
        {
            // The connection is going away; the receive side records why.
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            Abort(ConnectionClosedReason.TransportError, ex.Message);
        }
    }

    private async Task SendBatchAsync(Frame first, ChannelReader<Frame> reader, CancellationToken token)
    {
        var limit = Math.Min(MaxBatchBytes, _options.MaxFrameBytes);
        var batch = new FrameBuilder(FrameType.Batch, limit);
        var taken = 0L;
        try
        {
            var frame = first;
            while (true)
            {
                batch.WriteVarUInt((uint)frame.Length);
                batch.WriteBytes(frame.Span);
                taken += CostOf(frame);
                frame.Return();
                if (batch.Length >= limit / 2
                    || !reader.TryPeek(out var next)
                    || next.Length > MaxBatchedFrameBytes
                    || batch.Length + next.Length + 5 > limit
                    || !reader.TryRead(out frame))
                {
                    break;
                }

                Prepare(frame);
            }

            var message = batch.Build();
            try
            {
                await SendMessageAsync(message.Memory, token);
            }
            finally
            {
                message.Return();
            }
        }
        finally
        {
            batch.Dispose();
            Dequeued(taken);
        }
    }

    private async ValueTask SendMessageAsync(ReadOnlyMemory<byte> message, CancellationToken token)
    {
        // Stamped so the heartbeat can tell a peer that stopped reading (the send never completes) from a slow one.
        Volatile.Write(ref _sendStartedTick, Environment.TickCount64);
        try
        {
            await _socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, token);
        }
        finally
        {
            Volatile.Write(ref _sendStartedTick, 0);
        }
    }

    /// <summary>
    /// Answers a ping. One pong at most waits in the queue: a peer sending pings faster than it reads would
    /// otherwise make us queue an answer per ping. The queued pong carries the newest stamp when it leaves.
    /// </summary>
    private void QueuePong(long stamp)
    {
        Volatile.Write(ref _latestPingStamp, stamp);
        if (Interlocked.Exchange(ref _pongQueued, 1) == 0 && !TrySend(FrameCodec.Ping(FrameType.Pong, stamp)))
        {
            Volatile.Write(ref _pongQueued, 0);
        }
    }

    /// <summary>Last touches to a frame the writer just took: a pong gets the newest ping's stamp.</summary>
    private void Prepare(Frame frame)
    {
        if (frame.Type == FrameType.Pong && frame.Length == 9)
        {
            Volatile.Write(ref _pongQueued, 0);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(frame.Buffer.AsSpan(1), Volatile.Read(ref _latestPingStamp));
        }
    }

    private static long CostOf(Frame frame) => frame.Buffer.Length + QueueSlotBytes;

    private void Dequeued(long cost)
    {
        Interlocked.Add(ref _queuedBytes, -cost);
        _options.SharedBudget?.Give(cost);
    }
}
