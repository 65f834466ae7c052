namespace Synapse.Grains.Usage;

/// <summary>
/// Calls and tokens over some span. <see cref="Unmetered"/> counts calls whose upstream reported no usage: their
/// tokens are unknown, never estimated.
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

    public long Tokens => InputTokens + OutputTokens;

    public UsageTotals Plus(UsageTotals other) => new()
    {
        Requests = Requests + other.Requests,
        Unmetered = Unmetered + other.Unmetered,
        InputTokens = InputTokens + other.InputTokens,
        OutputTokens = OutputTokens + other.OutputTokens,
    };
}
