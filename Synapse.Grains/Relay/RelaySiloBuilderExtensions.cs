using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Runtime.Providers;
using Orleans.Streams;

namespace Synapse.Grains.Relay;

public static class RelaySiloBuilderExtensions
{
    /// <summary>
    /// The cross-silo response relay, both sides: the transport (<see cref="RelayOptions.Transport"/>), the publisher
    /// on the socket's silo, the table of waiting callers with its stall watchdog and membership watcher on the
    /// caller's silo. Options come from <c>Synapse:Relay</c>, bound and validated here once; an invalid value stops
    /// the start.
    /// </summary>
    public static ISiloBuilder AddSynapseRelay(this ISiloBuilder builder)
    {
        var relay = new RelayOptions();
        builder.Configuration.GetSection(RelayOptions.SectionName).Bind(relay);
        var invalid = new RelayOptionsValidator().Validate(null, relay);
        if (invalid.Failed)
        {
            throw new OptionsValidationException(RelayOptions.SectionName, typeof(RelayOptions), invalid.Failures);
        }

        relay.Transport = RelayTransports.Find(relay.Transport)!;
        var services = builder.Services;
        services.AddSingleton(Options.Create(relay));
        services.AddSingleton<RelayPublisher>();
        services.AddSingleton<RemoteResponseTable>();
        services.AddSingleton<IRelayInbox>(sp => sp.GetRequiredService<RemoteResponseTable>());
        services.AddHostedService<RelayStallWatchdog>();
        services.AddHostedService<RelayMembershipWatcher>();
        if (relay.Transport == RelayTransports.BroadcastChannel)
        {
            builder.AddBroadcastChannelRelay();
        }
        else
        {
            builder.AddMemoryStreamRelay(relay);
        }

        return builder;
    }

    private static void AddBroadcastChannelRelay(this ISiloBuilder builder)
    {
        builder.Services.AddSingleton<IRelayTransport, BroadcastChannelRelayTransport>();

        // Publishes are awaited: in order, and a caller silo that cannot take one is noticed by the outbox.
        builder.AddBroadcastChannel(RelayStreams.ProviderName, options => options.FireAndForgetDelivery = false);
    }

    private static void AddMemoryStreamRelay(this ISiloBuilder builder, RelayOptions relay)
    {
        builder.Services.AddSingleton<IRelayTransport, MemoryStreamRelayTransport>();
        builder.AddMemoryStreams(RelayStreams.ProviderName, streams =>
        {
            // Implicit subscriptions only: no pub-sub grain on the path and no subscription state a silo could lose.
            streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            streams.ConfigurePartitioning(relay.Queues);

            // Queues follow the consistent ring, which moves at once when membership declares a silo dead; a
            // lease-based balancer would leave a dead silo's queues unread until their leases ran out.
            streams.UseConsistentRingQueueBalancer();
            streams.ConfigurePullingAgent(agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = relay.PollingPeriod));
            streams.ConfigureBackoffProvider((_, _) => (IQueueReaderBackoffProvider)new RelayBackoff(relay.PullRetryMaxDelay));
            streams.ConfigureBackoffProvider((_, _) => (IMessageDeliveryBackoffProvider)new RelayBackoff(relay.PullRetryMaxDelay));
        });
    }
}
