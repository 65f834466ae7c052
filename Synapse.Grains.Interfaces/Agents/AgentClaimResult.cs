namespace Synapse.Grains.Agents;

[GenerateSerializer, Alias("synapse.AgentClaimResult")]
public enum AgentClaimResult
{
    Accepted = 0,

    /// <summary>Another agent process holds this id on live sockets.</summary>
    InUse = 1,
}
