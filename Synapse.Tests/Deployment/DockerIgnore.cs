using System.Text;
using System.Text.RegularExpressions;

namespace Synapse.Tests.Deployment;

/// <summary>
/// .dockerignore as Docker reads it: patterns relative to the context root, '*' and '?' within one path segment,
/// '**' across segments, '!' re-includes, the last matching pattern wins, and a pattern matching a folder
/// excludes what is inside it.
/// </summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exclude)> _rules = [];

    public DockerIgnore(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var exclude = !line.StartsWith('!');
            var pattern = (exclude ? line : line[1..]).Trim().Trim('/');
            _rules.Add((new Regex("^" + ToRegex(pattern) + "$", RegexOptions.CultureInvariant), exclude));
        }
    }

    /// <summary>Whether a path (relative to the context, '/'-separated) is left out of the build context.</summary>
    public bool Excludes(string path)
    {
        var parts = path.Replace('\\', '/').Trim('/').Split('/');
        var excluded = false;
        foreach (var (pattern, exclude) in _rules)
        {
            for (var n = 1; n <= parts.Length; n++)
            {
                if (pattern.IsMatch(string.Join('/', parts[..n])))
                {
                    excluded = exclude;
                    break;
                }
            }
        }

        return excluded;
    }

    private static string ToRegex(string pattern)
    {
        var regex = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                var slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                regex.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else
            {
                regex.Append(c switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    _ => Regex.Escape(c.ToString()),
                });
            }
        }

        return regex.ToString();
    }
}
