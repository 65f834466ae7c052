namespace Synapse.Silo.Tenancy;

/// <summary>
/// One key as the file gives it, before the cross-checks: where it is, its hash and its settings. Its group is
/// named by <c>Group</c> (for messages and generated names) and identified by <c>GroupPath</c> (two groups may
/// share a name in a broken file).
/// </summary>
internal sealed record ConfigKeyEntry(
    ConfigKeyRole Role,
    string? Group,
    string? GroupPath,
    ConfigNode Node,
    int Position,
    string? Name,
    KeyHash Hash,
    bool IsObject,
    ModelAllowList? Models = null,
    RateLimits? Limits = null,
    TokenBudget? Budget = null)
{
    public string Path => Node.Path;

    /// <summary>
    /// The explicit name, or one made from the key's place (<c>alpha/key-2</c>, <c>alpha/ws-key-1</c>,
    /// <c>admin/key-1</c>): stable while the list is not reordered, and never anything taken from the key.
    /// </summary>
    public string FinalName => Name ?? Role switch
    {
        ConfigKeyRole.Api => $"{Group}/key-{Position}",
        ConfigKeyRole.Agent => $"{Group}/ws-key-{Position}",
        _ => $"admin/key-{Position}",
    };

    /// <summary>How messages name the key's list: <c>group 'alpha'</c>, or <c>admin_keys</c>.</summary>
    public string Owner => Group is null ? "admin_keys" : $"group {ConfigText.Name(Group)}";

    public string Kind => Role switch
    {
        ConfigKeyRole.Api => "an API key",
        ConfigKeyRole.Agent => "an agent key (ws_auth_keys)",
        _ => "an admin key",
    };
}
