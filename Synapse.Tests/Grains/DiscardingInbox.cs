using System.Collections.Concurrent;
using Synapse.Grains.Relay;

namespace Synapse.Tests.Grains;

/// <summary>Collects relayed batches in grain-level tests, where no HTTP caller waits for them.</summary>
public sealed class DiscardingInbox : IRelayInbox
{
    public ConcurrentQueue<RelayBatch> Received { get; } = new();

    public void Deliver(RelayBatch batch) => Received.Enqueue(batch);
}
