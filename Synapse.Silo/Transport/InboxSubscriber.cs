using Orleans.Streams;
using Synapse.Grains.Relay;
using Synapse.Silo.Cluster;

namespace Synapse.Silo.Transport;

/// <summary>
/// Subscribes, once, when the silo becomes active, to this silo's inbox streams; every answer coming from another
/// silo arrives there. Subscribing per request would put a pub-sub write on every request's path.
/// </summary>
internal sealed partial class InboxSubscriber(
    IClusterClient client,
    ILocalSiloDetails silo,
    RemoteResponseTable table,
    GatewayState state,
    ILogger<InboxSubscriber> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly List<StreamSubscriptionHandle<RelayBatch>> _handles = [];

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(InboxSubscriber), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var provider = client.GetStreamProvider(RelayStreams.ProviderName);
        for (var shard = 0; shard < RelayStreams.InboxShards; shard++)
        {
            var stream = provider.GetStream<RelayBatch>(RelayStreams.Inbox(silo.SiloAddress, shard));
            _handles.Add(await stream.SubscribeAsync(OnNextAsync));
        }

        state.MarkJoined();
        LogSubscribed(logger, RelayStreams.InboxShards, silo.SiloAddress);
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var handle in _handles)
        {
            try
            {
                await handle.UnsubscribeAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (Exception ex)
            {
                LogUnsubscribeFailed(logger, ex);
            }
        }
    }

    private Task OnNextAsync(RelayBatch batch, StreamSequenceToken? token)
    {
        table.Deliver(batch);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed to {Shards} inbox streams of silo {Silo}")]
    private static partial void LogSubscribed(ILogger logger, int shards, SiloAddress silo);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not unsubscribe from an inbox stream on shutdown")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception);
}
