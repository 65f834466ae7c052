namespace Synapse.Silo.Tenancy;

/// <summary>One reading of the key-groups file: the config when valid, else every error found.</summary>
/// <param name="ContentHash">SHA-256 of the bytes read (hex), to tell a changed file from an unchanged one; null when unreadable.</param>
public sealed record TenancyLoadResult(TenancyLoadOutcome Outcome, TenancyConfig? Config, IReadOnlyList<TenancyConfigError> Errors, string? ContentHash)
{
    /// <summary>All errors, one per line, for a log line or the console.</summary>
    public string Describe() => string.Join(Environment.NewLine, Errors);
}
