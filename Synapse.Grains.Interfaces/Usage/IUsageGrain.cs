namespace Synapse.Grains.Usage;

/// <summary>
/// The usage of one API key (<c>key/&lt;name&gt;</c>) or key group (<c>group/&lt;name&gt;</c>) across the cluster.
/// Silos add what they counted in batches; the grain writes its state to storage in batches too (Redis with
/// <c>--redis</c>), so usage survives restarts minus at most one write interval.
/// </summary>
[Alias("synapse.IUsageGrain")]
public interface IUsageGrain : IGrainWithStringKey
{
    /// <summary>Adds a silo's batch; <paramref name="period"/> is the budget period in force (null: no budget).</summary>
    [Alias("Add")]
    Task Add(UsageBatch batch, UsagePeriod? period);

    [Alias("Get")]
    Task<UsageReport> Get(UsagePeriod? period);
}
