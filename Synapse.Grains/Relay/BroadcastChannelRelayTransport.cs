using Orleans.BroadcastChannel;
using Orleans.Hosting;

namespace Synapse.Grains.Relay;

/// <summary>
/// <see cref="RelayTransports.BroadcastChannel"/>: a publish is one grain-extension call to the caller silo's inbox
/// grain, which the channel's implicit subscription names from the channel id alone. Delivery is awaited
/// (<see cref="BroadcastChannelOptions.FireAndForgetDelivery"/> off), so a publish completes once the inbox took the
/// envelope, fails when it could not (the caller's silo is gone), and the outbox's one-at-a-time publishing keeps
/// the order. Nothing is queued in between and nothing polls.
/// </summary>
internal sealed class BroadcastChannelRelayTransport(IClusterClient client) : IRelayTransport
{
    public string Name => RelayTransports.BroadcastChannel;

    public IRelayInboxWriter Open(SiloAddress callerSilo, int shard) =>
        new Writer(client.GetBroadcastChannelProvider(RelayStreams.ProviderName)
            .GetChannelWriter<RelayEnvelope>(ChannelId.Create(RelayStreams.InboxNamespace, RelayStreams.InboxKey(callerSilo, shard))));

    private sealed class Writer(IBroadcastChannelWriter<RelayEnvelope> channel) : IRelayInboxWriter
    {
        public Task PublishAsync(RelayEnvelope envelope, CancellationToken cancellationToken) =>
            channel.Publish(envelope, cancellationToken);
    }
}
