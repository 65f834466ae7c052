using Synapse.Silo.Tenancy;

namespace Synapse.Silo.Usage;

/// <summary>Whether a caller may still spend tokens; when not, whose budget is spent and when it renews.</summary>
internal readonly record struct BudgetVerdict(bool Allowed, string? Owner, TokenBudget? Budget, DateTimeOffset RenewsAt)
{
    public static readonly BudgetVerdict Allow = new(true, null, null, default);
}
