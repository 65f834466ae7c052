namespace Synapse.Grains.Limits;

/// <summary>A key's or group's limits as the file says now (sent with each call, so a reload reaches the grain at once).</summary>
[GenerateSerializer, Immutable, Alias("synapse.LimitSettings")]
public sealed record LimitSettings
{
    [Id(0)]
    public int? RequestsPerMinute { get; init; }

    [Id(1)]
    public long? TokensPerMinute { get; init; }

    [Id(2)]
    public int? MaxParallel { get; init; }
}
