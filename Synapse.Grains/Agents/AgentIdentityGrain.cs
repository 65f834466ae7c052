using Microsoft.Extensions.Logging;
using Synapse.Grains.Cluster;

namespace Synapse.Grains.Agents;

/// <summary>
/// Holds which agent process (instance token) owns each agent id of its bucket, and on which sockets. Not reentrant:
/// claims of one bucket are decided one at a time, so two processes racing for one id cannot both win. State is in
/// memory and rebuilt from the silos' sockets when the grain is activated afresh (its silo died), so an impostor
/// cannot slip in while the registry is empty.
/// </summary>
internal sealed partial class AgentIdentityGrain(IClusterMembershipService membership, ILogger<AgentIdentityGrain> logger)
    : Grain, IAgentIdentityGrain
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);

    private readonly Dictionary<(string Group, string AgentId), Holder> _holders = [];

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var answers = await SiloFanOut.AskDirectoriesAsync(GrainFactory, SiloFanOut.Reachable(membership), d => d.GetClaims(key), AskTimeout, cancellationToken);
        foreach (var silent in answers.Where(a => !a.Answered))
        {
            LogRebuildSiloFailed(logger, silent.Failure!, key, silent.Silo);
        }

        foreach (var claim in answers.Where(a => a.Answered).SelectMany(a => a.Value!))
        {
            Hold(claim);
        }
    }

    public async Task<AgentClaimResult> Claim(AgentClaim claim)
    {
        if (!_holders.TryGetValue((claim.Group, claim.AgentId), out var holder) || holder.Token == claim.InstanceToken)
        {
            Hold(claim);
            return AgentClaimResult.Accepted;
        }

        // Another process holds the id. Its sockets may have died without a goodbye (a killed agent is noticed only at
        // its heartbeat timeout; a dead silo at its declaration): ask their silos which are still there.
        await PruneAsync(holder);
        if (holder.Connections.Count == 0)
        {
            _holders.Remove((claim.Group, claim.AgentId));
            Hold(claim);
            return AgentClaimResult.Accepted;
        }

        return AgentClaimResult.InUse;
    }

    public Task Release(string group, string agentId, string connectionId)
    {
        if (_holders.TryGetValue((group, agentId), out var holder)
            && holder.Connections.Remove(connectionId)
            && holder.Connections.Count == 0)
        {
            _holders.Remove((group, agentId));
        }

        return Task.CompletedTask;
    }

    private void Hold(AgentClaim claim)
    {
        if (!_holders.TryGetValue((claim.Group, claim.AgentId), out var holder))
        {
            holder = new Holder(claim.InstanceToken);
            _holders.Add((claim.Group, claim.AgentId), holder);
        }

        holder.Connections[claim.ConnectionId] = claim.Silo;
    }

    private async Task PruneAsync(Holder holder)
    {
        var snapshot = membership.CurrentSnapshot;
        foreach (var (connectionId, silo) in holder.Connections.ToArray())
        {
            if (!snapshot.Members.TryGetValue(silo, out var member) || member.Status == SiloStatus.Dead)
            {
                holder.Connections.Remove(connectionId);
            }
        }

        var bySilo = holder.Connections.GroupBy(c => c.Value, c => c.Key).ToArray();
        foreach (var group in bySilo)
        {
            var asked = group.ToArray();
            var answers = await SiloFanOut.AskDirectoriesAsync(GrainFactory, [group.Key], d => d.GetLiveConnections(asked), AskTimeout, CancellationToken.None);

            // A silo that does not answer keeps its claims: refusing a newcomer for a while is safer than letting an
            // impostor in beside a live agent.
            if (answers[0] is { Answered: true, Value: { } live })
            {
                foreach (var gone in asked.Except(live, StringComparer.Ordinal))
                {
                    holder.Connections.Remove(gone);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent identities {Key}: silo {Silo} did not report its sockets")]
    private static partial void LogRebuildSiloFailed(ILogger logger, Exception exception, string key, SiloAddress silo);

    private sealed class Holder(string token)
    {
        public string Token { get; } = token;

        public Dictionary<string, SiloAddress> Connections { get; } = new(StringComparer.Ordinal);
    }
}
