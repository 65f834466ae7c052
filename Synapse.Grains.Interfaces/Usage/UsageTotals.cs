namespace Synapse.Grains.Usage;

/// <summary>
/// Calls and tokens over some span. <see cref="Unmetered"/> counts calls whose upstream reported no usage: their
/// tokens are unknown, never estimated. Calls refused for a limit or a spent budget are counted apart: they reached
/// no upstream.
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.UsageTotals")]
public sealed record UsageTotals
{
    public static readonly UsageTotals Zero = new();

    [Id(0)]
    public long Requests { get; init; }

    [Id(1)]
    public long Unmetered { get; init; }

    [Id(2)]
    public long InputTokens { get; init; }

    [Id(3)]
    public long OutputTokens { get; init; }

    [Id(4)]
    public long RateLimited { get; init; }

    [Id(5)]
    public long QuotaExceeded { get; init; }

    public long Tokens => InputTokens + OutputTokens;

    public UsageTotals Plus(UsageTotals other) => new()
    {
        Requests = Requests + other.Requests,
        Unmetered = Unmetered + other.Unmetered,
        InputTokens = InputTokens + other.InputTokens,
        OutputTokens = OutputTokens + other.OutputTokens,
        RateLimited = RateLimited + other.RateLimited,
        QuotaExceeded = QuotaExceeded + other.QuotaExceeded,
    };
}
