namespace Synapse.Silo.Tenancy;

/// <summary>
/// Where a caller's model name leads within its group: the model it resolves to (through an alias, or itself) and
/// the fallbacks to try, in order, when no instance of it can take the request. Fallbacks outside the caller's
/// allow-list are already left out.
/// </summary>
public sealed record ModelRoute(string Requested, string Model, IReadOnlyList<string> Fallbacks)
{
    public bool IsAlias => !string.Equals(Requested, Model, StringComparison.Ordinal);
}
