using System.Net.WebSockets;
using System.Buffers;
using System.Threading.Channels;
using Synapse.Protocol.Frames;

namespace Synapse.Protocol.Transport;

/// <summary>
/// One WebSocket carrying protocol frames, used by both the gateway and the agent. It owns three loops: a reader
/// that hands each whole binary message to the owner, a single writer that drains a queue (so many requests can
/// send without locking), and a heartbeat that pings and declares the peer dead after a silence (or when a send to
/// it never completes). What a peer can make this side queue is bounded by real bytes: every queued frame counts
/// its pooled buffer plus a queue slot, against this socket's limit and the process-wide budget, and pings are
/// answered without amplification (at most one pong waits; a newer ping updates it).
/// </summary>
public sealed partial class FramedConnection : IDisposable
{
    private const int InitialReceiveBuffer = 16 * 1024;
    private const int MaxBatchBytes = 64 * 1024;
    private const int MaxBatchedFrameBytes = 16 * 1024;

    /// <summary>What a queued frame costs beyond its buffer: the queue's slot for it, rounded up.</summary>
    private const int QueueSlotBytes = 32;

    private readonly WebSocket _socket;
    private readonly FramedConnectionOptions _options;
    private readonly Channel<Frame> _outbound = Channel.CreateUnbounded<Frame>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private readonly CancellationTokenSource _abort = new();
    private long _queuedBytes;
    private long _lastReceived = Environment.TickCount64;
    private long _roundTripMs = -1;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string _closeDescription = string.Empty;
    private int _reason;
    private int _closing;
    private int _pongQueued;
    private long _latestPingStamp;
    private long _sendStartedTick;

    public FramedConnection(WebSocket socket, FramedConnectionOptions options)
    {
        _socket = socket;
        _options = options;
        options.SharedBudget?.Join(this);
    }

    /// <summary>Signalled when the connection is going away, for whatever reason.</summary>
    public CancellationToken Aborted => _abort.Token;

    public ConnectionClosedReason ClosedReason => (ConnectionClosedReason)Volatile.Read(ref _reason);

    /// <summary>The peer's close description, or ours, once the connection has ended.</summary>
    public string? CloseDescription { get; private set; }

    public long LastReceivedTick => Volatile.Read(ref _lastReceived);

    /// <summary>Round trip of the last ping, in milliseconds; -1 before the first pong.</summary>
    public long RoundTripMs => Volatile.Read(ref _roundTripMs);

    public long QueuedBytes => Volatile.Read(ref _queuedBytes);

    /// <summary>Queues a frame for the writer and takes ownership of it. False when the connection is gone.</summary>
    public bool TrySend(Frame frame)
    {
        if (_abort.IsCancellationRequested)
        {
            frame.Return();
            return false;
        }

        var cost = CostOf(frame);
        if (Interlocked.Add(ref _queuedBytes, cost) > _options.MaxQueuedBytes)
        {
            Interlocked.Add(ref _queuedBytes, -cost);
            frame.Return();
            Abort(ConnectionClosedReason.SendQueueFull, "peer is not reading");
            return false;
        }

        if (_options.SharedBudget is { } budget && !budget.TryTake(this, cost))
        {
            Interlocked.Add(ref _queuedBytes, -cost);
            frame.Return();
            Abort(ConnectionClosedReason.SendQueueFull, "the send queues are full and this peer holds more than its share");
            return false;
        }

        if (!_outbound.Writer.TryWrite(frame))
        {
            Dequeued(cost);
            frame.Return();
            return false;
        }

        return true;
    }

    /// <summary>
    /// Sends what is queued, then a close frame. Frames sent after this are dropped, and nothing the peer sends from
    /// now on is read as protocol; a peer that has not completed the close within the close timeout is cut off.
    /// </summary>
    public void Complete(WebSocketCloseStatus status, string description)
    {
        _closeStatus = status;
        _closeDescription = description;
        CloseDescription ??= description;
        SetReason(ConnectionClosedReason.ClosedLocally);
        if (Interlocked.Exchange(ref _closing, 1) == 0)
        {
            _ = AbortUnlessClosedAsync();
        }

        _outbound.Writer.TryComplete();
    }

    public void Abort(ConnectionClosedReason reason, string description)
    {
        SetReason(reason);
        CloseDescription ??= description;
        _outbound.Writer.TryComplete();
        if (!_abort.IsCancellationRequested)
        {
            try
            {
                _abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        _socket.Abort();
    }

    /// <summary>
    /// Runs the connection until either side closes it. Each binary message other than ping and pong goes to
    /// <paramref name="onFrame"/>, which takes ownership of it. A <see cref="FrameFormatException"/> thrown by the
    /// handler closes the connection with a protocol error.
    /// </summary>
    public async Task RunAsync(Func<Frame, ValueTask> onFrame, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abort.Token);
        var token = linked.Token;
        var sender = SendLoopAsync(token);
        var heartbeat = HeartbeatLoopAsync(token);
        try
        {
            await ReceiveLoopAsync(onFrame, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                SetReason(ConnectionClosedReason.ClosedLocally);
            }
        }
        catch (FrameFormatException ex)
        {
            await CloseWithAsync(ConnectionClosedReason.ProtocolViolation, WebSocketCloseStatus.ProtocolError, ex.Message);
        }
        catch (FrameTooLargeException ex)
        {
            await CloseWithAsync(ConnectionClosedReason.FrameTooLarge, WebSocketCloseStatus.MessageTooBig, ex.Message);
        }
        catch (UnsupportedFrameException ex)
        {
            await CloseWithAsync(ConnectionClosedReason.ProtocolViolation, WebSocketCloseStatus.InvalidMessageType, ex.Message);
        }
        catch (WebSocketException ex)
        {
            SetReason(ConnectionClosedReason.TransportError);
            CloseDescription ??= ex.Message;
        }
        catch (IOException ex)
        {
            SetReason(ConnectionClosedReason.TransportError);
            CloseDescription ??= ex.Message;
        }
        finally
        {
            _outbound.Writer.TryComplete();
            try
            {
                await sender.WaitAsync(_options.CloseTimeout, CancellationToken.None);
            }
            catch (Exception)
            {
                // The writer fails when the socket is gone; the reason is already recorded.
            }

            await AwaitPeerCloseAsync();
            Abort(ConnectionClosedReason.ClosedByPeer, "closed");
            await heartbeat.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            DrainQueue();
        }
    }

    public void Dispose()
    {
        DrainQueue();
        _options.SharedBudget?.Leave(this);
        _abort.Dispose();
    }


    /// <summary>After our close went out (or was queued), a peer that does not answer it is cut off.</summary>
    private async Task AbortUnlessClosedAsync()
    {
        try
        {
            await Task.Delay(_options.CloseTimeout, _abort.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            return;
        }

        if (_socket.State != WebSocketState.Closed)
        {
            Abort(ConnectionClosedReason.ClosedLocally, "the peer did not complete the close handshake");
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken token)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval < _options.HeartbeatTimeout / 2
            ? _options.HeartbeatInterval
            : _options.HeartbeatTimeout / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(token))
            {
                var now = Environment.TickCount64;
                var silentMs = now - Volatile.Read(ref _lastReceived);
                if (silentMs > _options.HeartbeatTimeout.TotalMilliseconds)
                {
                    Abort(ConnectionClosedReason.HeartbeatTimeout, $"no frame from the peer for {silentMs} ms");
                    return;
                }

                var sendStarted = Volatile.Read(ref _sendStartedTick);
                if (sendStarted != 0 && now - sendStarted > _options.HeartbeatTimeout.TotalMilliseconds)
                {
                    Abort(ConnectionClosedReason.SendStalled, $"the peer read nothing for {now - sendStarted} ms");
                    return;
                }

                TrySend(FrameCodec.Ping(FrameType.Ping, Environment.TickCount64));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// After we sent a close, let the peer answer it before the socket is torn down; aborting at once can reset the
    /// connection before the peer has read why it was closed.
    /// </summary>
    private async Task AwaitPeerCloseAsync()
    {
        if (_socket.State != WebSocketState.CloseSent || _abort.IsCancellationRequested)
        {
            return;
        }

        var scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            using var timeout = new CancellationTokenSource(_options.CloseTimeout);
            while (true)
            {
                var result = await _socket.ReceiveAsync(scratch.AsMemory(), timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception)
        {
            // Timed out or broke: the abort that follows ends it either way.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private async Task CloseWithAsync(ConnectionClosedReason reason, WebSocketCloseStatus status, string description)
    {
        SetReason(reason);
        CloseDescription ??= description;
        _closeStatus = status;
        _closeDescription = description.Length > 120 ? description[..120] : description;
        _outbound.Writer.TryComplete();
        await Task.CompletedTask;
    }

    private void SetReason(ConnectionClosedReason reason) =>
        Interlocked.CompareExchange(ref _reason, (int)reason, (int)ConnectionClosedReason.None);

    private void DrainQueue()
    {
        while (_outbound.Reader.TryRead(out var frame))
        {
            Dequeued(CostOf(frame));
            frame.Return();
        }
    }

    private sealed class FrameTooLargeException(string message) : Exception(message);

    private sealed class UnsupportedFrameException(string message) : Exception(message);
}
