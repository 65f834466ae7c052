using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Synapse.Grains.Relay;

/// <summary>
/// The responses this silo sends to one inbox of one caller silo. A single pump publishes them in envelopes: while
/// one publish is in flight, every response with something new gets in line, and the next envelope carries all of
/// them. Per response the order is kept (one pump, sequential publishes); a publish that fails is retried until the
/// transport takes it, and given up only after the retry window or when the caller's silo is declared dead.
/// </summary>
internal sealed partial class RelayOutbox : IDisposable
{
    private const int MaxBatchesPerEnvelope = 256;
    private const int MaxBytesPerEnvelope = 512 * 1024;

    /// <summary>A queue whose silo died comes back when membership says so: retry soon, without hammering it.</summary>
    private static readonly Protocol.Backoff PublishBackoff = new(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(250));

    private readonly RelayPublisher _owner;
    private readonly IRelayInboxWriter _inbox;
    private readonly Channel<StreamRelaySink> _ready = Channel.CreateUnbounded<StreamRelaySink>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private readonly CancellationTokenSource _stopped = new();

    public RelayOutbox(RelayPublisher owner, IRelayInboxWriter inbox, SiloAddress replyTo)
    {
        _owner = owner;
        _inbox = inbox;
        ReplyTo = replyTo;
        _ = Task.Run(PumpAsync);
    }

    public SiloAddress ReplyTo { get; }

    public void Schedule(StreamRelaySink sink)
    {
        if (sink.TrySchedule())
        {
            _ready.Writer.TryWrite(sink);
        }
    }

    public void Stop()
    {
        _ready.Writer.TryComplete();
        try
        {
            _stopped.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        Stop();
        _stopped.Dispose();
    }

    private async Task PumpAsync()
    {
        var batches = new List<RelayBatch>(16);
        var included = new List<StreamRelaySink>(16);
        var finished = new List<StreamRelaySink>(16);
        try
        {
            while (await _ready.Reader.WaitToReadAsync(_stopped.Token))
            {
                var bytes = 0;
                while (batches.Count < MaxBatchesPerEnvelope && bytes < MaxBytesPerEnvelope && _ready.Reader.TryRead(out var sink))
                {
                    sink.Unschedule();
                    var batch = sink.Take(out var ended, out var size);
                    if (batch is not null)
                    {
                        batches.Add(batch);
                        included.Add(sink);
                        bytes += size;
                    }

                    if (ended)
                    {
                        finished.Add(sink);
                    }
                    else if (sink.HasPending)
                    {
                        Schedule(sink);
                    }
                }

                if (batches.Count > 0)
                {
                    if (await PublishAsync(new RelayEnvelope { Batches = [.. batches] }))
                    {
                        foreach (var sink in included)
                        {
                            sink.Published();
                        }
                    }
                    else
                    {
                        foreach (var sink in included)
                        {
                            sink.Connection.Cancel(sink.RequestId);
                            sink.Drop();
                            _owner.Completed(sink);
                        }
                    }
                }

                foreach (var sink in finished)
                {
                    _owner.Completed(sink);
                }

                batches.Clear();
                included.Clear();
                finished.Clear();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The caller's silo is gone, or this silo is stopping.
        }
    }

    private async Task<bool> PublishAsync(RelayEnvelope envelope)
    {
        var deadline = Environment.TickCount64 + (long)_owner.Options.PublishRetryWindow.TotalMilliseconds;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await _inbox.PublishAsync(envelope, _stopped.Token);
                return true;
            }
            catch (Exception ex) when (_stopped.IsCancellationRequested)
            {
                // The caller's silo was declared dead (or this silo is stopping): nobody will read these.
                LogPublishStopped(_owner.Logger, ex, envelope.Batches.Length, ReplyTo);
                return false;
            }
            catch (Exception ex) when (Environment.TickCount64 < deadline)
            {
                LogPublishRetry(_owner.Logger, ex, ReplyTo, attempt + 1);
                await PublishBackoff.WaitAsync(attempt, _stopped.Token);
            }
            catch (Exception ex)
            {
                LogPublishFailed(_owner.Logger, ex, envelope.Batches.Length, ReplyTo);
                return false;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Publishing responses to silo {Silo} failed (attempt {Attempt}); retrying")]
    private static partial void LogPublishRetry(ILogger logger, Exception exception, SiloAddress silo, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stopped publishing {Count} responses to silo {Silo}")]
    private static partial void LogPublishStopped(ILogger logger, Exception exception, int count, SiloAddress silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish {Count} responses to silo {Silo}; cancelling them")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, int count, SiloAddress silo);
}
