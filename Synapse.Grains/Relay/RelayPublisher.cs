using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Synapse.Grains.Agents;

namespace Synapse.Grains.Relay;

/// <summary>
/// On the socket's silo: creates the sinks that carry responses to callers on other silos, one outbox per caller
/// inbox; keeps idle responses audible with keepalives; and cancels them when a caller's silo dies (nobody would
/// read the answer, and the agent would keep the upstream busy).
/// </summary>
public sealed partial class RelayPublisher(IRelayTransport transport, IOptions<RelayOptions> options, ILogger<RelayPublisher> logger) : IDisposable
{
    private readonly ConcurrentDictionary<long, StreamRelaySink> _sinks = new();
    private readonly ConcurrentDictionary<(SiloAddress Silo, int Shard), RelayOutbox> _outboxes = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly IdleSignal _responses = new();
    private int _keepAliveStarted;

    /// <summary>Responses in flight to other silos.</summary>
    public int Active => _sinks.Count;

    internal ILogger Logger => logger;

    internal RelayOptions Options => options.Value;

    internal StreamRelaySink CreateSink(long requestId, SiloAddress replyTo, ILocalAgentConnection connection)
    {
        if (Interlocked.Exchange(ref _keepAliveStarted, 1) == 0)
        {
            _ = KeepAliveLoopAsync();
        }

        var shard = RelayStreams.ShardOf(requestId);
        var outbox = _outboxes.GetOrAdd((replyTo, shard), key => new RelayOutbox(this, transport.Open(key.Silo, key.Shard), key.Silo));
        var sink = new StreamRelaySink(outbox, requestId, replyTo, connection);
        _sinks[requestId] = sink;
        _responses.Set();
        return sink;
    }

    internal void Abandon(StreamRelaySink sink)
    {
        _sinks.TryRemove(new KeyValuePair<long, StreamRelaySink>(sink.RequestId, sink));
        sink.Drop();
    }

    internal void Completed(StreamRelaySink sink) =>
        _sinks.TryRemove(new KeyValuePair<long, StreamRelaySink>(sink.RequestId, sink));

    /// <summary>The silo waiting for these answers is dead: abort their upstream requests.</summary>
    public int CancelRequestsFor(SiloAddress deadSilo)
    {
        var cancelled = 0;
        foreach (var sink in _sinks.Values)
        {
            if (sink.ReplyTo.Equals(deadSilo))
            {
                cancelled++;
                sink.Connection.Cancel(sink.RequestId);
                Abandon(sink);
            }
        }

        foreach (var key in _outboxes.Keys.Where(k => k.Silo.Equals(deadSilo)).ToArray())
        {
            if (_outboxes.TryRemove(key, out var outbox))
            {
                outbox.Dispose();
            }
        }

        if (cancelled > 0)
        {
            LogCallerSiloDead(logger, cancelled, deadSilo);
        }

        return cancelled;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        foreach (var outbox in _outboxes.Values)
        {
            outbox.Dispose();
        }

        _stopping.Dispose();
    }

    /// <summary>One timer for the whole silo, not one per response; asleep while no response crosses to another silo.</summary>
    private async Task KeepAliveLoopAsync()
    {
        var interval = Options.KeepAliveInterval;
        try
        {
            while (true)
            {
                await _responses.WaitUntilAsync(() => !_sinks.IsEmpty, _stopping.Token);
                await Task.Delay(interval / 2, _stopping.Token);
                var idleSince = Environment.TickCount64 - (long)interval.TotalMilliseconds;
                foreach (var sink in _sinks.Values)
                {
                    if (sink.LastPublishTick < idleSince)
                    {
                        sink.RequestKeepAlive();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cancelled {Count} requests whose caller silo {Silo} is dead")]
    private static partial void LogCallerSiloDead(ILogger logger, int count, SiloAddress silo);
}
