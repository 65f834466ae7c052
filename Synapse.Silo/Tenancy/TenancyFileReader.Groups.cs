namespace Synapse.Silo.Tenancy;

/// <summary>Groups: each group read with its keys and model maps, and group names unique across the file.</summary>
internal sealed partial class TenancyFileReader
{
    private static readonly string[] GroupFields = ["name", "ws_auth_keys", "api_keys", "models", "limits", "budget", "aliases", "fallbacks"];

    private GroupDraft? ReadGroup(ConfigNode node)
    {
        if (node.Kind != ConfigNodeKind.Mapping)
        {
            Error(node, $"a group must be a mapping (name, ws_auth_keys, api_keys), not {node.Describe()}");
            return null;
        }

        CheckFields(node, GroupFields, "a group");
        var nameNode = Field(node, "name");
        var name = nameNode is null ? null : Text(nameNode)?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            Error(nameNode ?? node, "a group needs a non-empty name", nameNode is null ? ConfigNode.FieldPath(node.Path, "name") : null);
            name = null;
        }
        else if (name.Any(char.IsControl))
        {
            Error(nameNode!, "a group name must not contain control characters");
            name = null;
        }
        else if (name.Contains('/', StringComparison.Ordinal))
        {
            // Model grains are keyed "group/model" and model names contain '/', so "a/b" + "c" would be "a" + "b/c".
            Error(nameNode!, "a group name must not contain '/' (it separates the group from the model in routing keys)");
            name = null;
        }

        // Keys are read even without a valid name, so their own errors are reported too.
        var label = name ?? $"#{node.Path}";
        var agentKeys = ReadKeys(Field(node, "ws_auth_keys"), ConfigKeyRole.Agent, label, node.Path, out var agentEntries);
        var apiKeys = ReadKeys(Field(node, "api_keys"), ConfigKeyRole.Api, label, node.Path, out var apiEntries);

        // Entries with errors of their own count here: "needs at least one" would only repeat those errors.
        if (agentEntries == 0)
        {
            Error(Field(node, "ws_auth_keys") ?? node, "a group needs at least one ws_auth_keys entry (the key its agents connect with)", ConfigNode.FieldPath(node.Path, "ws_auth_keys"));
        }

        if (apiEntries == 0)
        {
            Error(Field(node, "api_keys") ?? node, "a group needs at least one api_keys entry (a key its callers send)", ConfigNode.FieldPath(node.Path, "api_keys"));
        }

        var models = Field(node, "models") is { } modelsNode ? ReadModels(modelsNode) : null;
        var limits = Field(node, "limits") is { } limitsNode ? ReadLimits(limitsNode) : null;
        var budget = Field(node, "budget") is { } budgetNode ? ReadBudget(budgetNode) : null;
        var aliases = Field(node, "aliases") is { } aliasesNode ? ReadAliases(aliasesNode) : [];
        var fallbacks = Field(node, "fallbacks") is { } fallbacksNode ? ReadFallbacks(fallbacksNode) : [];
        return name is null
            ? null
            : new GroupDraft(node, nameNode!, name, agentKeys, apiKeys, models, limits, budget, aliases, fallbacks);
    }

    private void CheckGroupNames(List<GroupDraft> groups)
    {
        var seen = new Dictionary<string, GroupDraft>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            if (!seen.TryAdd(group.Name, group))
            {
                Error(group.NameNode, $"group name {ConfigText.Name(group.Name)} is already used at {seen[group.Name].Node.Path}");
            }
        }
    }

    private sealed record GroupDraft(
        ConfigNode Node,
        ConfigNode NameNode,
        string Name,
        List<ConfigKeyEntry> AgentKeys,
        List<ConfigKeyEntry> ApiKeys,
        ModelAllowList? Models,
        RateLimits? Limits,
        TokenBudget? Budget,
        List<KeyValuePair<string, string>> Aliases,
        List<KeyValuePair<string, IReadOnlyList<string>>> Fallbacks);
}
