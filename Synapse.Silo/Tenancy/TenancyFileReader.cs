using System.Globalization;
using System.Text.RegularExpressions;

namespace Synapse.Silo.Tenancy;

/// <summary>
/// Walks the key-groups file (as <see cref="ConfigNode"/>s) against its schema, checks the rules across groups and
/// builds the <see cref="TenancyConfig"/>. Collects every error rather than stopping at the first, each with its
/// field path, and names keys only by their place in the file.
/// </summary>
/// <remarks>
/// The Go original's schema and rules, unchanged: at least one group; group names unique and non-empty (trimmed);
/// each group at least one <c>ws_auth_keys</c> and one <c>api_keys</c> entry; a key in two groups is an error; keys
/// trimmed, empty and repeated plain entries ignored; unknown fields are errors. Choices beyond it:
/// <list type="bullet">
/// <item>The same key as agent key and API key of one group is allowed (as in Go); across groups it is an error,
/// since it would let one group's agent machines call another group's models.</item>
/// <item>An admin key must be a key of its own: the same key as any group's API or agent key is an error (one key
/// is one identity, with one name, one group and one usage record).</item>
/// <item>Group names may not contain <c>/</c>: it separates group and model in grain keys, and model names
/// contain it.</item>
/// <item>Key names are unique across the file, may not contain <c>/</c> (reserved for generated names) and may not
/// be a key.</item>
/// </list>
/// </remarks>
internal sealed partial class TenancyFileReader
{
    private static readonly string[] TopFields = ["groups", "admin_keys"];
    private static readonly string[] GroupFields = ["name", "ws_auth_keys", "api_keys", "models", "limits", "budget", "aliases", "fallbacks"];
    private static readonly string[] ApiKeyFields = ["name", "key", "key_sha256", "models", "limits", "budget"];
    private static readonly string[] OtherKeyFields = ["name", "key", "key_sha256"];
    private static readonly string[] LimitFields = ["rpm", "tpm", "max_parallel"];
    private static readonly string[] BudgetFields = ["tokens", "period"];

    private readonly string _file;
    private readonly List<TenancyConfigError> _errors;
    private readonly int _errorsBefore;

    private TenancyFileReader(string file, List<TenancyConfigError> errors)
    {
        _file = file;
        _errors = errors;
        _errorsBefore = errors.Count;
    }

    private bool Failed => _errors.Count > _errorsBefore;

    /// <summary>Every key written in clear in the file, so that <see cref="TenancyConfigLoader"/> can scrub them from messages.</summary>
    public List<string> PlainKeys { get; } = [];

    /// <summary>Reads the document; null when it broke a rule (the reasons are in <paramref name="errors"/>).</summary>
    public static TenancyConfig? Read(ConfigNode root, string file, string fingerprint, List<TenancyConfigError> errors, out IReadOnlyList<string> plainKeys)
    {
        var reader = new TenancyFileReader(file, errors);
        var config = reader.ReadDocument(root, fingerprint);
        plainKeys = reader.PlainKeys;
        return reader.Failed ? null : config;
    }

    private TenancyConfig? ReadDocument(ConfigNode root, string fingerprint)
    {
        if (root.Kind == ConfigNodeKind.Null)
        {
            Error(root, "the file is empty; it needs 'groups:' with at least one group");
            return null;
        }

        if (root.Kind != ConfigNodeKind.Mapping)
        {
            Error(root, $"the file must be a mapping with 'groups:' at the top, not {root.Describe()}");
            return null;
        }

        CheckFields(root, TopFields, "the top level");
        var groupsNode = Field(root, "groups");
        var groups = new List<GroupDraft>();
        if (groupsNode is null || groupsNode.Kind == ConfigNodeKind.Null || groupsNode is { Kind: ConfigNodeKind.Sequence, Items.Count: 0 })
        {
            Error(groupsNode ?? root, groupsNode is null ? "'groups' is missing; at least one group is required" : "at least one group is required", groupsNode is null ? "groups" : null);
        }
        else if (groupsNode.Kind != ConfigNodeKind.Sequence)
        {
            Error(groupsNode, $"must be a list of groups, not {groupsNode.Describe()}");
        }
        else
        {
            foreach (var item in groupsNode.Items)
            {
                if (ReadGroup(item) is { } group)
                {
                    groups.Add(group);
                }
            }
        }

        var adminKeys = ReadKeys(Field(root, "admin_keys"), ConfigKeyRole.Admin, group: null, groupPath: null, out _);
        CheckGroupNames(groups);
        var (api, agent, admin) = CheckKeys(groups, adminKeys);
        CheckNames(groups, api.Concat(agent).Concat(admin).ToList());
        return Compile(groups, api, agent, admin, fingerprint);
    }

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

    private ModelAllowList? ReadModels(ConfigNode node)
    {
        if (node.Kind != ConfigNodeKind.Sequence)
        {
            Error(node, $"must be a list of model names or prefix* patterns, not {node.Describe()}");
            return null;
        }

        if (node.Items.Count == 0)
        {
            Error(node, "an empty list would allow no model at all; leave 'models' out to allow every model");
            return null;
        }

        var patterns = new List<string>();
        foreach (var item in node.Items)
        {
            var pattern = Text(item)?.Trim();
            if (pattern is null)
            {
                continue;
            }

            if (!ModelAllowList.IsValidPattern(pattern, out var reason))
            {
                Error(item, reason);
            }
            else
            {
                patterns.Add(pattern);
            }
        }

        return patterns.Count == node.Items.Count ? ModelAllowList.Create(patterns) : null;
    }

    private RateLimits? ReadLimits(ConfigNode node)
    {
        if (node.Kind == ConfigNodeKind.Null)
        {
            return null;
        }

        if (node.Kind != ConfigNodeKind.Mapping)
        {
            Error(node, $"must be a mapping such as {{rpm: 600, tpm: 100000, max_parallel: 8}}, not {node.Describe()}");
            return null;
        }

        CheckFields(node, LimitFields, "limits");
        var rpm = Field(node, "rpm") is { } r ? Positive(r, int.MaxValue) : null;
        var tpm = Field(node, "tpm") is { } t ? Positive(t, long.MaxValue / 2) : null;
        var parallel = Field(node, "max_parallel") is { } p ? Positive(p, int.MaxValue) : null;
        var limits = new RateLimits((int?)rpm, tpm, (int?)parallel);
        return limits.IsEmpty ? null : limits;
    }

    private TokenBudget? ReadBudget(ConfigNode node)
    {
        if (node.Kind != ConfigNodeKind.Mapping)
        {
            Error(node, $"must be a mapping such as {{tokens: 1000000, period: month}}, not {node.Describe()}");
            return null;
        }

        CheckFields(node, BudgetFields, "budget");
        var tokensNode = Field(node, "tokens");
        var periodNode = Field(node, "period");
        long? tokens = null;
        if (tokensNode is null)
        {
            Error(node, "a budget needs 'tokens'");
        }
        else
        {
            tokens = Positive(tokensNode, long.MaxValue / 2);
        }

        BudgetPeriod? period = null;
        var periodText = periodNode is null ? null : Text(periodNode)?.Trim();
        if (periodNode is null || periodText is null)
        {
            Error(periodNode ?? node, "a budget needs a 'period': day, week or month");
        }
        else
        {
            period = periodText.ToUpperInvariant() switch
            {
                "DAY" => BudgetPeriod.Day,
                "WEEK" => BudgetPeriod.Week,
                "MONTH" => BudgetPeriod.Month,
                _ => null,
            };
            if (period is null)
            {
                Error(periodNode, $"the period must be day, week or month, not {ConfigText.Name(periodText)}");
            }
        }

        return tokens is { } t && period is { } p ? new TokenBudget(t, p) : null;
    }

    private List<KeyValuePair<string, string>> ReadAliases(ConfigNode node)
    {
        var aliases = new List<KeyValuePair<string, string>>();
        if (node.Kind == ConfigNodeKind.Null)
        {
            return aliases;
        }

        if (node.Kind != ConfigNodeKind.Mapping)
        {
            Error(node, $"must be a mapping of alias: model, not {node.Describe()}");
            return aliases;
        }

        foreach (var (alias, value) in node.Fields)
        {
            var target = Text(value)?.Trim();
            if (string.IsNullOrEmpty(target))
            {
                Error(value, "an alias must name a model");
                continue;
            }

            aliases.Add(new KeyValuePair<string, string>(alias, target));
        }

        return aliases;
    }

    private List<KeyValuePair<string, IReadOnlyList<string>>> ReadFallbacks(ConfigNode node)
    {
        var fallbacks = new List<KeyValuePair<string, IReadOnlyList<string>>>();
        if (node.Kind == ConfigNodeKind.Null)
        {
            return fallbacks;
        }

        if (node.Kind != ConfigNodeKind.Mapping)
        {
            Error(node, $"must be a mapping of model: [fallback, ...], not {node.Describe()}");
            return fallbacks;
        }

        foreach (var (model, value) in node.Fields)
        {
            if (value.Kind != ConfigNodeKind.Sequence || value.Items.Count == 0)
            {
                Error(value, "must be a non-empty list of the models to try instead, in order");
                continue;
            }

            var targets = new List<string>();
            foreach (var item in value.Items)
            {
                var target = Text(item)?.Trim();
                if (string.IsNullOrEmpty(target))
                {
                    Error(item, "a fallback must be a model name");
                    continue;
                }

                targets.Add(target);
            }

            fallbacks.Add(new KeyValuePair<string, IReadOnlyList<string>>(model, targets));
        }

        return fallbacks;
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

    private TenancyConfig? Compile(List<GroupDraft> drafts, List<ConfigKeyEntry> api, List<ConfigKeyEntry> agent, List<ConfigKeyEntry> admin, string fingerprint)
    {
        var groups = new Dictionary<string, TenantGroup>(StringComparer.Ordinal);
        foreach (var draft in drafts)
        {
            var problems = new List<ModelMapProblem>();
            var aliases = ModelAliases.Build(draft.Aliases, problems);
            Report(draft, "aliases", problems);
            problems.Clear();
            var fallbacks = FallbackChains.Build(draft.Fallbacks, aliases, problems);
            Report(draft, "fallbacks", problems);
            groups.TryAdd(draft.Name, new TenantGroup(
                draft.Name,
                draft.Models ?? ModelAllowList.Everything,
                draft.Limits,
                draft.Budget,
                aliases,
                fallbacks,
                api.Where(k => k.Group == draft.Name).Select(k => k.FinalName).ToList(),
                agent.Where(k => k.Group == draft.Name).Select(k => k.FinalName).ToList()));
        }

        if (Failed)
        {
            return null;
        }

        var apiKeys = new Dictionary<KeyHash, CallerIdentity>();
        foreach (var entry in api)
        {
            apiKeys[entry.Hash] = new CallerIdentity(entry.Hash, entry.FinalName, entry.Name is not null, groups[entry.Group!], isAdmin: false, isAnonymous: false,
                entry.Models ?? ModelAllowList.Everything, entry.Limits, entry.Budget);
        }

        foreach (var entry in admin)
        {
            apiKeys[entry.Hash] = new CallerIdentity(entry.Hash, entry.FinalName, entry.Name is not null, group: null, isAdmin: true, isAnonymous: false,
                ModelAllowList.Everything, limits: null, budget: null);
        }

        var agentKeys = agent.ToDictionary(e => e.Hash, e => new AgentCredential(groups[e.Group!], e.FinalName, e.Hash));
        return new TenancyConfig(_file, fingerprint, [.. groups.Values], apiKeys, agentKeys, admin.Select(a => a.FinalName).ToList());
    }

    private void Report(GroupDraft draft, string field, List<ModelMapProblem> problems)
    {
        foreach (var problem in problems)
        {
            var node = Field(Field(draft.Node, field)!, problem.Name) ?? draft.Node;
            Error(node, problem.Reason);
        }
    }

    private void CheckFields(ConfigNode mapping, string[] allowed, string what)
    {
        foreach (var (name, value) in mapping.Fields)
        {
            if (name == "<<")
            {
                Error(value, "YAML merge keys (<<) are not supported; repeat the fields, or share a whole value with an anchor (limits: *shared)");
            }
            else if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                var hint = allowed.FirstOrDefault(a => Distance(a, name) <= 2) is { } close ? $"; did you mean '{close}'?" : "";
                Error(value, $"unknown field{hint} ({what} may have {string.Join(", ", allowed)})");
            }
        }
    }

    private static ConfigNode? Field(ConfigNode mapping, string name)
    {
        foreach (var (fieldName, value) in mapping.Fields)
        {
            if (fieldName == name)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>A scalar's text; null (and an error) for a list or mapping, null for an empty value.</summary>
    private string? Text(ConfigNode node)
    {
        switch (node.Kind)
        {
            case ConfigNodeKind.Scalar:
                return node.Text;
            case ConfigNodeKind.Null:
                return null;
            default:
                Error(node, $"must be text, not {node.Describe()}");
                return null;
        }
    }

    /// <summary>A positive whole number, not a string. Whole numbers written in exponent form (1e6) are accepted.</summary>
    private long? Positive(ConfigNode node, long max)
    {
        if (node.Kind != ConfigNodeKind.Scalar)
        {
            Error(node, $"must be a positive whole number, not {node.Describe()}");
            return null;
        }

        var text = node.Text!.Trim();
        if (node.IsString)
        {
            Error(node, "must be a number, not a string (write it without quotes)");
            return null;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                && Math.Floor(number) == number && Math.Abs(number) < 1e15)
            {
                value = (long)number;
            }
            else
            {
                Error(node, $"must be a positive whole number, not {ConfigText.Name(text)}");
                return null;
            }
        }

        if (value <= 0)
        {
            Error(node, value == 0 ? "must be positive (leave the field out for no limit)" : $"must be positive, not {value}");
            return null;
        }

        if (value > max)
        {
            Error(node, $"must be at most {max}");
            return null;
        }

        return value;
    }

    private void Error(ConfigNode node, string reason, string? path = null) =>
        _errors.Add(new TenancyConfigError(_file, path ?? node.Path, reason, node.Line, node.Column));

    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$")]
    private static partial Regex KeyName();

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
