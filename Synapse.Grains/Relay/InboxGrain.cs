using Orleans.BroadcastChannel;
using Orleans.Streams;
using Orleans.Streams.Core;
using Synapse.Grains.Placement;

namespace Synapse.Grains.Relay;

/// <summary>
/// Consumes one inbox of the silo its key names (pinned, never migrated) and hands every batch to the silo's
/// <see cref="IRelayInbox"/>. Subscribed implicitly on both transports (<see cref="RelayTransports"/>): only the one
/// configured delivers. Not reentrant: envelopes are handed over one at a time, in the order they arrive.
/// </summary>
[ImplicitStreamSubscription(RelayStreams.InboxNamespace)]
[ImplicitChannelSubscription(RelayStreams.InboxNamespace)]
[SiloPinnedPlacement, Immovable]
internal sealed class InboxGrain(IRelayInbox inbox) : Grain, IInboxGrain, IStreamSubscriptionObserver, IOnBroadcastChannelSubscribed
{
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<RelayEnvelope>().ResumeAsync((envelope, _) => Deliver(envelope));

    public Task OnSubscribed(IBroadcastChannelSubscription streamSubscription) =>
        streamSubscription.Attach<RelayEnvelope>(Deliver);

    private Task Deliver(RelayEnvelope envelope)
    {
        foreach (var batch in envelope.Batches)
        {
            inbox.Deliver(batch);
        }

        return Task.CompletedTask;
    }
}
