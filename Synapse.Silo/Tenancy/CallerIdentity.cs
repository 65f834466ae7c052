namespace Synapse.Silo.Tenancy;

/// <summary>
/// Who an API call comes from, as its key says: the key's name (what logs, metrics, <c>/usage</c> and the status
/// page show; never the key), its group, what it may use and the limits that apply. Built once per key when the
/// file is read, so authenticating a request allocates nothing.
/// </summary>
public sealed class CallerIdentity
{
    internal CallerIdentity(KeyHash hash, string keyName, bool isNamed, TenantGroup? group, bool isAdmin, bool isAnonymous, ModelAllowList keyModels, RateLimits? limits, TokenBudget? budget)
    {
        Hash = hash;
        KeyName = keyName;
        IsNamed = isNamed;
        Group = group;
        IsAdmin = isAdmin;
        IsAnonymous = isAnonymous;
        KeyModels = keyModels;
        Models = group is null ? keyModels : group.Models.Intersect(keyModels);
        Limits = limits;
        Budget = budget;
    }

    /// <summary>The key's hash, for the final constant-time comparison (default for the anonymous caller).</summary>
    internal KeyHash Hash { get; }

    /// <summary>The key's <c>name</c>, or a generated one (<c>alpha/key-2</c>: group and position in its list).</summary>
    public string KeyName { get; }

    /// <summary>The file gave the key a name (generated names change when keys are reordered).</summary>
    public bool IsNamed { get; }

    /// <summary>The key's group; null for an admin key, which belongs to none and cannot call <c>/v1</c>.</summary>
    public TenantGroup? Group { get; }

    /// <summary>An <c>admin_keys</c> entry: sees every group on <c>/status</c>, the status page and <c>/usage</c>.</summary>
    public bool IsAdmin { get; }

    /// <summary>No API key is configured (no <c>--config</c>, no <c>--api-auth-key</c>): everyone is this caller.</summary>
    public bool IsAnonymous { get; }

    /// <summary>May call models (<c>/v1/*</c>): every key but an admin key.</summary>
    public bool CanCallModels => Group is not null;

    /// <summary>What the caller may see and reach: its group's allow-list and its key's, both.</summary>
    public ModelAllowList Models { get; }

    /// <summary>The key's own <c>models:</c> (everything when it has none).</summary>
    public ModelAllowList KeyModels { get; }

    /// <summary>The key's own <c>limits:</c>; its group's (<see cref="TenantGroup.Limits"/>) apply as well.</summary>
    public RateLimits? Limits { get; }

    /// <summary>The key's own <c>budget:</c>; its group's (<see cref="TenantGroup.Budget"/>) applies as well.</summary>
    public TokenBudget? Budget { get; }

    /// <summary>The caller may see this group's models, agents and usage (its own, or any for an admin).</summary>
    public bool CanSee(string groupName) => IsAdmin || string.Equals(Group?.Name, groupName, StringComparison.Ordinal);

    /// <summary>A model (by its real name) is listed to this caller.</summary>
    public bool CanUse(string model) => Group is not null && Models.Allows(model);

    /// <summary>Where a model name leads for this caller; null when it may not use it (answer 404 <c>model_not_found</c>).</summary>
    public ModelRoute? Route(string requested) => Group?.Route(requested, Models);

    public override string ToString() => KeyName;
}
