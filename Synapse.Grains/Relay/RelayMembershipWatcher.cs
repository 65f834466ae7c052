using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Synapse.Grains.Relay;

/// <summary>
/// Acts on silos declared dead: answers that were on their way from them fail at once (the caller sees an error,
/// not a hang), and answers this silo was sending to them stop (the agent frees the upstream). Any change of the
/// active silos starts a settling period in which silent cross-silo paths are given up sooner.
/// </summary>
internal sealed partial class RelayMembershipWatcher(
    IClusterMembershipService membership,
    RemoteResponseTable remoteResponses,
    RelayPublisher relay,
    ILogger<RelayMembershipWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var dead = new HashSet<SiloAddress>();
        HashSet<SiloAddress>? active = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                var now = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToHashSet();
                if (active is not null && !active.SetEquals(now))
                {
                    // A silo came or went: stream queues move to their new owners over the next moments.
                    remoteResponses.ClusterChanged();
                }

                active = now;
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
