namespace Synapse.Grains.Limits;

/// <summary>
/// One bucket's state after a call: what is left now, how long until one more unit is available (0 when some are),
/// and how long until the bucket is full again (OpenAI's <c>x-ratelimit-reset-*</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.LimitWindow")]
public readonly record struct LimitWindow(
    [property: Id(0)] long Limit,
    [property: Id(1)] double Remaining,
    [property: Id(2)] TimeSpan RetryAfter,
    [property: Id(3)] TimeSpan ResetIn);
