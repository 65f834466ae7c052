namespace Synapse.Grains.Agents;

/// <summary>
/// Who holds which agent id, for one bucket of ids (see <see cref="AgentIdentityKey"/>). Checked once per handshake,
/// never on the request path, and never refreshed: a claim lives until its socket closes, and a holder that may
/// have died without saying so is checked with its silo only when someone else claims the id.
/// </summary>
[Alias("synapse.IAgentIdentityGrain")]
public interface IAgentIdentityGrain : IGrainWithStringKey
{
    [Alias("Claim")]
    Task<AgentClaimResult> Claim(AgentClaim claim);

    [Alias("Release")]
    Task Release(string group, string agentId, string connectionId);
}
