namespace Synapse.Silo.Tenancy;

/// <summary>
/// What an agent's WebSocket key admitted it as: its group (fixed by the key; nothing the agent sends can change it)
/// and the key's name. Keeps the key's hash, so that after a reload <see cref="TenancyConfig.StillAdmits"/> can tell
/// whether the key was revoked or moved to another group.
/// </summary>
public sealed class AgentCredential
{
    internal AgentCredential(TenantGroup group, string keyName, KeyHash? keyHash)
    {
        Group = group;
        KeyName = keyName;
        KeyHash = keyHash;
    }

    public TenantGroup Group { get; }

    /// <summary>The key's <c>name</c>, or a generated one (<c>alpha/ws-key-1</c>); <c>anonymous</c> on an open <c>/ws</c>.</summary>
    public string KeyName { get; }

    /// <summary>Null when <c>/ws</c> is open (no agent key configured).</summary>
    public KeyHash? KeyHash { get; }

    public override string ToString() => KeyName;
}
