namespace Synapse.Tests.Deployment;

/// <summary>The instructions of a Dockerfile, continuation lines joined, grouped by stage. Enough for our own.</summary>
public sealed class Dockerfile
{
    public sealed record Instruction(string Keyword, string Arguments, int Stage);

    private Dockerfile(IReadOnlyList<Instruction> instructions) => Instructions = instructions;

    public IReadOnlyList<Instruction> Instructions { get; }

    public int LastStage => Instructions.Max(i => i.Stage);

    public IEnumerable<Instruction> All(string keyword) =>
        Instructions.Where(i => i.Keyword.Equals(keyword, StringComparison.OrdinalIgnoreCase));

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<Instruction>();
        var stage = -1;
        var pending = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (pending.Length == 0 && line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }

            var whole = (pending + line).Trim();
            pending = "";
            if (whole.Length == 0)
            {
                continue;
            }

            var space = whole.IndexOf(' ', StringComparison.Ordinal);
            var keyword = (space < 0 ? whole : whole[..space]).ToUpperInvariant();
            if (keyword == "FROM")
            {
                stage++;
            }

            instructions.Add(new Instruction(keyword, space < 0 ? "" : whole[(space + 1)..].Trim(), stage));
        }

        return new Dockerfile(instructions);
    }

    /// <summary>A COPY's flags (--from=...), sources and destination. Only the shell form, as ours uses.</summary>
    public static (IReadOnlyDictionary<string, string> Flags, IReadOnlyList<string> Sources, string Destination) ParseCopy(Instruction copy)
    {
        var words = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var flags = words.TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal))
            .Select(w => w[2..].Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
        var paths = words.Skip(flags.Count).ToList();
        return (flags, paths[..^1], paths[^1]);
    }
}
