using System.Globalization;
using System.Text;

namespace Synapse.Silo.Tenancy;

/// <summary>
/// One thing wrong with the key-groups file: which file, where in it (field path, and line and column when the
/// syntax gives them) and why. Never holds a key: messages name keys by their place in the file instead.
/// </summary>
public sealed record TenancyConfigError(string File, string Path, string Reason, int Line = 0, int Column = 0)
{
    /// <summary><c>groups.yaml:7:9: groups[1].api_keys[0].nmae: unknown field ...</c>, like a compiler's messages.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(File);
        if (Line > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $":{Line}");
            if (Column > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $":{Column}");
            }
        }

        text.Append(": ");
        if (Path.Length > 0)
        {
            text.Append(Path).Append(": ");
        }

        return text.Append(Reason).ToString();
    }
}
