using System.Text.RegularExpressions;

namespace Synapse.Silo.Tenancy;

/// <summary>
/// One node of the key-groups file, read from YAML or JSON into the same shape, so one schema walker serves both
/// and every error names the same field path (<c>groups[1].api_keys[0].name</c>) and line whatever the syntax.
/// </summary>
internal sealed partial class ConfigNode
{
    private ConfigNode(ConfigNodeKind kind, string path, int line, int column)
    {
        Kind = kind;
        Path = path;
        Line = line;
        Column = column;
    }

    public ConfigNodeKind Kind { get; }

    /// <summary>Where the node sits, e.g. <c>groups[0].aliases["gpt-4o"]</c>; empty for the document itself.</summary>
    public string Path { get; }

    /// <summary>1-based line and column of the node in the file (0 when unknown).</summary>
    public int Line { get; }

    public int Column { get; }

    /// <summary>A scalar's text (null for anything else).</summary>
    public string? Text { get; private init; }

    /// <summary>
    /// The scalar was written as a string: quoted in YAML, a JSON string. Numbers must not be strings, so that
    /// <c>rpm: "100"</c> is refused as JSON's <c>"rpm": "100"</c> is.
    /// </summary>
    public bool IsString { get; private init; }

    /// <summary>A mapping's fields in file order (names are unique: readers refuse duplicates).</summary>
    public IReadOnlyList<KeyValuePair<string, ConfigNode>> Fields { get; private init; } = [];

    /// <summary>A sequence's items in order.</summary>
    public IReadOnlyList<ConfigNode> Items { get; private init; } = [];

    public static ConfigNode Null(string path, int line, int column) => new(ConfigNodeKind.Null, path, line, column);

    public static ConfigNode Scalar(string path, int line, int column, string text, bool isString) =>
        new(ConfigNodeKind.Scalar, path, line, column) { Text = text, IsString = isString };

    public static ConfigNode Mapping(string path, int line, int column, IReadOnlyList<KeyValuePair<string, ConfigNode>> fields) =>
        new(ConfigNodeKind.Mapping, path, line, column) { Fields = fields };

    public static ConfigNode Sequence(string path, int line, int column, IReadOnlyList<ConfigNode> items) =>
        new(ConfigNodeKind.Sequence, path, line, column) { Items = items };

    /// <summary>The path of a field of the node at <paramref name="parent"/>: <c>a.b</c>, or <c>a["b.c"]</c> for names that are not plain words.</summary>
    public static string FieldPath(string parent, string name)
    {
        if (PlainName().IsMatch(name))
        {
            return parent.Length == 0 ? name : $"{parent}.{name}";
        }

        var quoted = "[\"" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"]";
        return parent + quoted;
    }

    public static string ItemPath(string parent, int index) => $"{parent}[{index}]";

    /// <summary>The node's kind as the error messages name it.</summary>
    public string Describe() => Kind switch
    {
        ConfigNodeKind.Null => "empty",
        ConfigNodeKind.Mapping => "a mapping",
        ConfigNodeKind.Sequence => "a list",
        _ => IsString ? "a string" : "a scalar",
    };

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex PlainName();
}
