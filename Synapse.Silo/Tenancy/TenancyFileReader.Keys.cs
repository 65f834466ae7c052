using System.Text.RegularExpressions;

namespace Synapse.Silo.Tenancy;

/// <summary>Keys: plain and object entries read, and the rules across groups and roles (repeats, shared keys, names).</summary>
internal sealed partial class TenancyFileReader
{
    private static readonly string[] ApiKeyFields = ["name", "key", "key_sha256", "models", "limits", "budget"];
    private static readonly string[] OtherKeyFields = ["name", "key", "key_sha256"];

    /// <param name="present">Entries that are not empty, valid or not.</param>
    private List<ConfigKeyEntry> ReadKeys(ConfigNode? list, ConfigKeyRole role, string? group, string? groupPath, out int present)
    {
        var entries = new List<ConfigKeyEntry>();
        present = 0;
        if (list is null || list.Kind == ConfigNodeKind.Null)
        {
            return entries;
        }

        if (list.Kind != ConfigNodeKind.Sequence)
        {
            Error(list, $"must be a list of keys, not {list.Describe()}");
            return entries;
        }

        for (var i = 0; i < list.Items.Count; i++)
        {
            var item = list.Items[i];
            switch (item.Kind)
            {
                case ConfigNodeKind.Null:
                    break;
                case ConfigNodeKind.Scalar:
                    // As in Go: trimmed, and an empty entry is no key at all.
                    var key = item.Text!.Trim();
                    if (key.Length > 0)
                    {
                        present++;
                        PlainKeys.Add(key);
                        entries.Add(new ConfigKeyEntry(role, group, groupPath, item, i + 1, Name: null, KeyHash.Of(key), IsObject: false));
                    }

                    break;
                case ConfigNodeKind.Mapping:
                    present++;
                    if (ReadKeyObject(item, role, group, groupPath, i + 1) is { } entry)
                    {
                        entries.Add(entry);
                    }

                    break;
                default:
                    present++;
                    Error(item, role == ConfigKeyRole.Api
                        ? "a key must be a string, or a mapping such as {name: ci-bot, key: ...} or {name: ci-bot, key_sha256: ...}"
                        : "a key must be a string, or a mapping {name, key} or {name, key_sha256}");
                    break;
            }
        }

        return entries;
    }

    private ConfigKeyEntry? ReadKeyObject(ConfigNode node, ConfigKeyRole role, string? group, string? groupPath, int position)
    {
        var before = _errors.Count;
        CheckFields(node, role == ConfigKeyRole.Api ? ApiKeyFields : OtherKeyFields, role == ConfigKeyRole.Api ? "an API key" : "a key");
        var nameNode = Field(node, "name");
        var name = nameNode is null ? null : Text(nameNode)?.Trim();
        if (nameNode is not null && name is not null && !KeyName().IsMatch(name))
        {
            Error(nameNode, name.Length == 0
                ? "a key name must not be empty (leave 'name' out for a generated one)"
                : "a key name may hold letters, digits and . _ : @ - (at most 64, starting with a letter or digit), e.g. ci-bot");
        }

        var keyNode = Field(node, "key");
        var hashNode = Field(node, "key_sha256");
        KeyHash hash = default;
        if (keyNode is not null && hashNode is not null)
        {
            Error(node, "give either 'key' or 'key_sha256', not both");
        }
        else if (keyNode is not null)
        {
            var key = Text(keyNode)?.Trim();
            if (string.IsNullOrEmpty(key))
            {
                Error(keyNode, "the key must not be empty");
            }
            else
            {
                PlainKeys.Add(key);
                hash = KeyHash.Of(key);
            }
        }
        else if (hashNode is not null)
        {
            var hex = Text(hashNode)?.Trim();
            if (hex is null || !KeyHash.TryParseHex(hex, out hash))
            {
                Error(hashNode, "must be 64 hexadecimal digits: the SHA-256 of the key, as `printf %s \"$KEY\" | sha256sum` prints it");
            }
        }
        else
        {
            Error(node, "a key needs 'key' or 'key_sha256'");
        }

        if (name is not null && _errors.Count == before && KeyHash.Of(name) == hash)
        {
            Error(nameNode!, "the name is the key itself; names appear in logs and metrics, so choose another");
        }

        var models = role == ConfigKeyRole.Api && Field(node, "models") is { } modelsNode ? ReadModels(modelsNode) : null;
        var limits = role == ConfigKeyRole.Api && Field(node, "limits") is { } limitsNode ? ReadLimits(limitsNode) : null;
        var budget = role == ConfigKeyRole.Api && Field(node, "budget") is { } budgetNode ? ReadBudget(budgetNode) : null;
        if (role == ConfigKeyRole.Api && Field(node, "budget") is not null && name is null)
        {
            Error(Field(node, "budget")!, $"a key with a budget needs a 'name': budgets are kept by name, and the generated one ({group}/key-{position}) changes when keys are reordered");
        }

        return _errors.Count > before ? null : new ConfigKeyEntry(role, group, groupPath, node, position, name, hash, IsObject: true, models, limits, budget);
    }

    /// <summary>Repeats, keys in two groups and keys in two roles; returns the keys that stay, by role.</summary>
    private (List<ConfigKeyEntry> Api, List<ConfigKeyEntry> Agent, List<ConfigKeyEntry> Admin) CheckKeys(List<GroupDraft> groups, List<ConfigKeyEntry> adminKeys)
    {
        var api = Distinct(groups.SelectMany(g => g.ApiKeys));
        var agent = Distinct(groups.SelectMany(g => g.AgentKeys));
        var admin = Distinct(adminKeys);
        var apiByHash = api.ToDictionary(e => e.Hash);
        var agentByHash = agent.ToDictionary(e => e.Hash);

        // One key as agent key and API key: fine within a group (as in Go), never across groups.
        foreach (var entry in api)
        {
            if (agentByHash.TryGetValue(entry.Hash, out var other) && other.GroupPath != entry.GroupPath)
            {
                Error(entry.Node, $"the same key is {other.Kind} of {other.Owner} at {other.Path}; a key may be both kinds only within one group");
            }
        }

        foreach (var entry in admin)
        {
            if (apiByHash.TryGetValue(entry.Hash, out var other) || agentByHash.TryGetValue(entry.Hash, out other))
            {
                Error(entry.Node, $"the same key is also {other.Kind} of {other.Owner} at {other.Path}; an admin key must be a key of its own");
            }
        }

        return (api, agent, admin);

        // In one list, a repeated plain key is ignored (as in Go); anywhere else a repeat is an error.
        List<ConfigKeyEntry> Distinct(IEnumerable<ConfigKeyEntry> entries)
        {
            var kept = new Dictionary<KeyHash, ConfigKeyEntry>();
            var list = new List<ConfigKeyEntry>();
            foreach (var entry in entries)
            {
                if (!kept.TryGetValue(entry.Hash, out var first))
                {
                    kept[entry.Hash] = entry;
                    list.Add(entry);
                }
                else if (first.GroupPath != entry.GroupPath)
                {
                    Error(entry.Node, $"the same key also appears in {first.Owner} at {first.Path}; a key belongs to one group");
                }
                else if (first.IsObject || entry.IsObject)
                {
                    Error(entry.Node, $"the same key is listed twice in this list (also at {first.Path}); which name and settings apply would be a guess");
                }
            }

            return list;
        }
    }

    /// <summary>Key names unique across the file, and no name (of a key or group) that is itself a key.</summary>
    private void CheckNames(List<GroupDraft> groups, List<ConfigKeyEntry> keys)
    {
        var hashes = keys.Select(k => k.Hash).ToHashSet();
        var names = new Dictionary<string, ConfigKeyEntry>(StringComparer.Ordinal);
        foreach (var entry in keys)
        {
            if (entry.Name is not null && hashes.Contains(KeyHash.Of(entry.Name)))
            {
                Error(Field(entry.Node, "name")!, "the name is one of the file's keys; names appear in logs and metrics, so choose another");
                continue;
            }

            if (names.TryGetValue(entry.FinalName, out var first))
            {
                if (entry.Name is null && first.Name is null && first.Group == entry.Group && first.GroupPath != entry.GroupPath)
                {
                    continue; // two groups of one name, reported as such
                }

                Error(entry.Name is null ? entry.Node : Field(entry.Node, "name")!, entry.Name is null
                    ? $"this key's generated name '{entry.FinalName}' is also the name of the key at {first.Path}; give one of them a name"
                    : $"key name {ConfigText.Name(entry.Name)} is already used at {first.Path}; key names are unique across the file");
                continue;
            }

            names[entry.FinalName] = entry;
        }

        foreach (var group in groups)
        {
            if (hashes.Contains(KeyHash.Of(group.Name)))
            {
                Error(group.NameNode, "the group name is one of the file's keys; names appear in logs and metrics, so choose another");
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$")]
    private static partial Regex KeyName();
}
