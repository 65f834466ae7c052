namespace Synapse.Silo.Tenancy;

/// <summary>How reading the key-groups file went; also the <c>result</c> tag of <c>synapse.config.reloads</c>.</summary>
public enum TenancyLoadOutcome
{
    /// <summary>Read and valid: it is (or stays) the config in force.</summary>
    Ok,

    /// <summary>Read, but it breaks the schema or a rule: the previous config stays.</summary>
    Invalid,

    /// <summary>Missing, unreadable or too large: the previous config stays.</summary>
    Unreadable,
}
