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
}
