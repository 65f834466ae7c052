namespace Synapse.Silo.Tenancy;

/// <summary>Node helpers: fields of a mapping, scalar text, unknown-field hints and the error list.</summary>
internal sealed partial class TenancyFileReader
{
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
}
