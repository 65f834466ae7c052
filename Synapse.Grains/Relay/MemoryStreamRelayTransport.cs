using Orleans.Streams;

namespace Synapse.Grains.Relay;

/// <summary>
/// <see cref="RelayTransports.MemoryStreams"/>: a publish enqueues into the memory stream's queue grain; the queue's
/// pulling agent finds it on its next poll and delivers it to the inbox grain. Every queue is polled every
/// <see cref="RelayOptions.PollingPeriod"/>, traffic or not.
/// </summary>
internal sealed class MemoryStreamRelayTransport(IClusterClient client) : IRelayTransport
{
    public string Name => RelayTransports.MemoryStreams;

    public IRelayInboxWriter Open(SiloAddress callerSilo, int shard) =>
        new Writer(client.GetStreamProvider(RelayStreams.ProviderName).GetStream<RelayEnvelope>(RelayStreams.Inbox(callerSilo, shard)));

    private sealed class Writer(IAsyncStream<RelayEnvelope> stream) : IRelayInboxWriter
    {
        // The enqueue takes no token: a cancelled publish stops waiting, the envelope may still arrive (and is ignored).
        public Task PublishAsync(RelayEnvelope envelope, CancellationToken cancellationToken) =>
            stream.OnNextAsync(envelope).WaitAsync(cancellationToken);
    }
}
