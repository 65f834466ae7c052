using Orleans.Streams;
using Orleans.Streams.Core;
using Synapse.Grains.Placement;

namespace Synapse.Grains.Relay;

/// <summary>
/// Consumes one inbox stream on the silo its key names (pinned, never migrated) and hands every batch to the
/// silo's <see cref="IRelayInbox"/>. Not reentrant: batches of a stream are handed over one at a time, in order.
/// </summary>
[ImplicitStreamSubscription(RelayStreams.InboxNamespace)]
[SiloPinnedPlacement, Immovable]
internal sealed class InboxGrain(IRelayInbox inbox) : Grain, IInboxGrain, IStreamSubscriptionObserver
{
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<RelayEnvelope>().ResumeAsync(OnNextAsync);

    private Task OnNextAsync(RelayEnvelope envelope, StreamSequenceToken? token)
    {
        foreach (var batch in envelope.Batches)
        {
            inbox.Deliver(batch);
        }

        return Task.CompletedTask;
    }
}
