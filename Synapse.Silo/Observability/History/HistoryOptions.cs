namespace Synapse.Silo.Observability.History;

/// <summary>The status page's traffic history (section <c>Synapse:History</c>).</summary>
public sealed class HistoryOptions
{
    public const string SectionName = "Synapse:History";

    /// <summary>
    /// Models a silo keeps a history for (about 120 KB each). Names come from agents, so they are capped; calls to
    /// models beyond the cap still count in the silo's total, and a model idle for the whole window is dropped.
    /// </summary>
    public int MaxModels { get; set; } = 32;
}
