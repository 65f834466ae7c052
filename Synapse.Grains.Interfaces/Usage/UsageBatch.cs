namespace Synapse.Grains.Usage;

/// <summary>What one silo counted for one key or group since its last flush, by model.</summary>
[GenerateSerializer, Immutable, Alias("synapse.UsageBatch")]
public sealed record UsageBatch
{
    /// <summary>When the silo took the batch (the calls ended before it).</summary>
    [Id(0)]
    public DateTimeOffset At { get; init; }

    [Id(1)]
    public IReadOnlyDictionary<string, UsageTotals> ByModel { get; init; } = new Dictionary<string, UsageTotals>();

    public UsageTotals Total => ByModel.Values.Aggregate(UsageTotals.Zero, (sum, t) => sum.Plus(t));
}
