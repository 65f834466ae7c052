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
    /// The cross-silo response relay, both sides: the stream provider and its pulling agents, the publisher on the
    /// socket's silo, the table of waiting callers with its stall watchdog and membership watcher on the caller's
    /// silo. Options come from <c>Synapse:Relay</c>, bound and validated here once; an invalid value stops the start.
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

        var services = builder.Services;
        services.AddSingleton(Options.Create(relay));
        services.AddSingleton<RelayPublisher>();
        services.AddSingleton<RemoteResponseTable>();
        services.AddSingleton<IRelayInbox>(sp => sp.GetRequiredService<RemoteResponseTable>());
        services.AddHostedService<RelayStallWatchdog>();
        services.AddHostedService<RelayMembershipWatcher>();

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
        return builder;
    }
}
