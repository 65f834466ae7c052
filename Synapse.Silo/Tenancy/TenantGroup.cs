namespace Synapse.Silo.Tenancy;

/// <summary>
/// One key group: its agents serve only it, its callers see and reach only its models. Immutable; a reload builds
/// new groups, so compare groups by <see cref="Name"/>, not by reference, across reloads.
/// </summary>
public sealed class TenantGroup
{
    internal TenantGroup(
        string name,
        ModelAllowList models,
        RateLimits? limits,
        TokenBudget? budget,
        ModelAliases aliases,
        FallbackChains fallbacks,
        IReadOnlyList<string> apiKeyNames,
        IReadOnlyList<string> agentKeyNames)
    {
        Name = name;
        Models = models;
        Limits = limits;
        Budget = budget;
        Aliases = aliases;
        Fallbacks = fallbacks;
        ApiKeyNames = apiKeyNames;
        AgentKeyNames = agentKeyNames;
    }

    /// <summary>The implicit group without <c>--config</c>.</summary>
    public const string DefaultName = "default";

    public string Name { get; }

    /// <summary>The group's <c>models:</c> allow-list (every key of the group is within it).</summary>
    public ModelAllowList Models { get; }

    public RateLimits? Limits { get; }

    public TokenBudget? Budget { get; }

    public ModelAliases Aliases { get; }

    public FallbackChains Fallbacks { get; }

    /// <summary>Names of the group's API keys, in file order (for <c>/usage</c> and the status page).</summary>
    public IReadOnlyList<string> ApiKeyNames { get; }

    /// <summary>Names of the group's agent (WebSocket) keys, in file order.</summary>
    public IReadOnlyList<string> AgentKeyNames { get; }

    /// <summary>
    /// Where <paramref name="requested"/> leads for a caller allowed <paramref name="access"/>; null when the caller
    /// may not use it (answer exactly as for a model that does not exist). A name is usable when the allow-list
    /// admits either the name asked for or the model it resolves to, so a key may be given an alias only.
    /// </summary>
    public ModelRoute? Route(string requested, ModelAllowList access)
    {
        ArgumentNullException.ThrowIfNull(requested);
        ArgumentNullException.ThrowIfNull(access);
        var model = Aliases.Resolve(requested);
        if (!access.Allows(requested) && !access.Allows(model))
        {
            return null;
        }

        var fallbacks = Fallbacks.For(model);
        if (!access.AllowsEverything && fallbacks.Count > 0)
        {
            fallbacks = fallbacks.Where(access.Allows).ToArray();
        }

        return new ModelRoute(requested, model, fallbacks);
    }

    public override string ToString() => Name;
}
