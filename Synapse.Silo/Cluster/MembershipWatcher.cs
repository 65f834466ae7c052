using Synapse.Grains.Relay;
using Synapse.Silo.Transport;

namespace Synapse.Silo.Cluster;

/// <summary>
/// Acts on silos declared dead: answers that were on their way from them fail at once (the caller sees an error,
/// not a hang), and answers this silo was sending to them stop (the agent frees the upstream).
/// </summary>
internal sealed partial class MembershipWatcher(
    IClusterMembershipService membership,
    RemoteResponseTable remoteResponses,
    RelayPublisher relay,
    ILogger<MembershipWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var dead = new HashSet<SiloAddress>();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                foreach (var member in snapshot.Members.Values)
                {
                    if (member.Status != SiloStatus.Dead || !dead.Add(member.SiloAddress))
                    {
                        continue;
                    }

                    var failed = remoteResponses.FailAllFrom(member.SiloAddress);
                    var cancelled = relay.CancelRequestsFor(member.SiloAddress);
                    LogSiloDead(logger, member.SiloAddress, failed, cancelled);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} declared dead: failed {Failed} responses coming from it, cancelled {Cancelled} going to it")]
    private static partial void LogSiloDead(ILogger logger, SiloAddress silo, int failed, int cancelled);
}
