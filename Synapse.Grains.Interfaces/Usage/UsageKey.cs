namespace Synapse.Grains.Usage;

/// <summary>The usage grains' keys: one per API key name and one per group (names are unique within each kind).</summary>
public static class UsageKey
{
    public static string ForKey(string keyName) => "key/" + keyName;

    public static string ForGroup(string group) => "group/" + group;
}
