namespace Synapse.Silo.Tenancy;

/// <summary>
/// A group's model aliases: a name callers may use for another model (<c>gpt-4o → llama-3.1-70b</c>). An alias may
/// name another alias; chains are followed once, when the file is read, so a lookup is one dictionary probe. An
/// alias always wins over a model of the same name that agents happen to serve, so what a name means never
/// depends on which agents are connected.
/// </summary>
public sealed class ModelAliases
{
    private readonly Dictionary<string, string> _targets;
    private readonly ILookup<string, string> _byModel;

    private ModelAliases(Dictionary<string, string> targets)
    {
        _targets = targets;
        _byModel = targets.ToLookup(t => t.Value, t => t.Key, StringComparer.Ordinal);
    }

    public static ModelAliases None { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>Every alias and the model it finally resolves to.</summary>
    public IReadOnlyDictionary<string, string> Targets => _targets;

    public int Count => _targets.Count;

    /// <summary>
    /// Resolves aliases, following chains; problems (empty names, an alias to itself, loops) are reported per
    /// alias and those aliases left out.
    /// </summary>
    public static ModelAliases Build(IEnumerable<KeyValuePair<string, string>> aliases, ICollection<ModelMapProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(aliases);
        ArgumentNullException.ThrowIfNull(problems);
        var direct = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (alias, model) in aliases)
        {
            if (string.IsNullOrWhiteSpace(alias) || string.IsNullOrWhiteSpace(model))
            {
                problems.Add(new ModelMapProblem(alias, "an alias and its model must both be non-empty names"));
            }
            else if (alias == model)
            {
                problems.Add(new ModelMapProblem(alias, "an alias cannot name itself"));
            }
            else
            {
                direct[alias] = model;
            }
        }

        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var alias in direct.Keys)
        {
            var chain = new List<string> { alias };
            var current = direct[alias];
            while (direct.TryGetValue(current, out var next) && !chain.Contains(current))
            {
                chain.Add(current);
                current = next;
            }

            if (chain.Contains(current))
            {
                chain.Add(current);
                problems.Add(new ModelMapProblem(alias, $"aliases form a loop: {string.Join(" → ", chain)}"));
                continue;
            }

            resolved[alias] = current;
        }

        return resolved.Count == 0 ? None : new ModelAliases(resolved);
    }

    /// <summary>The model a name means: the alias's target, or the name itself.</summary>
    public string Resolve(string name) => _targets.TryGetValue(name, out var model) ? model : name;

    public bool IsAlias(string name) => _targets.ContainsKey(name);

    /// <summary>Aliases that resolve to <paramref name="model"/> (for listing them beside it).</summary>
    public IEnumerable<string> AliasesOf(string model) => _byModel[model];
}
