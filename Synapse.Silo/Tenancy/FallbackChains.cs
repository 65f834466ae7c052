namespace Synapse.Silo.Tenancy;

/// <summary>
/// A group's fallbacks: when no instance of a model can take a request, the models to try instead, in order. A
/// model's chain is its own list, each entry followed by that entry's own chain (depth first, each model once), so
/// <c>70b: [8b]</c> and <c>8b: [3b]</c> give 70b the chain 8b, 3b. Names go through the group's aliases first.
/// Loops are refused when the file is read, never discovered while serving.
/// </summary>
public sealed class FallbackChains
{
    private readonly Dictionary<string, string[]> _chains;

    private FallbackChains(Dictionary<string, string[]> chains) => _chains = chains;

    public static FallbackChains None { get; } = new(new Dictionary<string, string[]>(StringComparer.Ordinal));

    /// <summary>Every model with fallbacks and its full chain.</summary>
    public IReadOnlyDictionary<string, string[]> Chains => _chains;

    public static FallbackChains Build(
        IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> fallbacks,
        ModelAliases aliases,
        ICollection<ModelMapProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(fallbacks);
        ArgumentNullException.ThrowIfNull(aliases);
        ArgumentNullException.ThrowIfNull(problems);

        var direct = DirectEdges(fallbacks, aliases, problems, out var writtenAs);
        if (HasLoops(direct, writtenAs, problems))
        {
            return None;
        }

        var chains = Flatten(direct);
        return chains.Count == 0 ? None : new FallbackChains(chains);
    }

    /// <summary>Direct edges, by resolved model name; <paramref name="writtenAs"/> maps each model to its name as written.</summary>
    private static Dictionary<string, List<string>> DirectEdges(
        IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> fallbacks,
        ModelAliases aliases,
        ICollection<ModelMapProblem> problems,
        out Dictionary<string, string> writtenAs)
    {
        var direct = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        writtenAs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, targets) in fallbacks)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                problems.Add(new ModelMapProblem(name, "a model name must not be empty"));
                continue;
            }

            var model = aliases.Resolve(name);
            if (writtenAs.TryGetValue(model, out var first))
            {
                problems.Add(new ModelMapProblem(name, $"'{name}' and '{first}' are the same model ('{model}'): give its fallbacks once"));
                continue;
            }

            writtenAs[model] = name;
            var list = new List<string>();
            foreach (var target in targets)
            {
                if (string.IsNullOrWhiteSpace(target))
                {
                    problems.Add(new ModelMapProblem(name, "a fallback must be a non-empty model name"));
                    continue;
                }

                var resolved = aliases.Resolve(target);
                if (resolved == model)
                {
                    problems.Add(new ModelMapProblem(name, target == name
                        ? $"'{name}' falls back to itself"
                        : $"fallbacks form a loop: {name} → {target} (an alias of '{model}')"));
                    continue;
                }

                if (!list.Contains(resolved))
                {
                    list.Add(resolved);
                }
            }

            direct[model] = list;
        }

        return direct;
    }

    /// <summary>Depth-first search for cycles; each is reported once, at the first model written on it.</summary>
    private static bool HasLoops(Dictionary<string, List<string>> direct, Dictionary<string, string> writtenAs, ICollection<ModelMapProblem> problems)
    {
        var state = new Dictionary<string, bool>(StringComparer.Ordinal); // false: on the current path; true: done
        var stack = new List<string>();
        var looping = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in direct.Keys)
        {
            Visit(model);
        }

        void Visit(string model)
        {
            if (state.TryGetValue(model, out var done))
            {
                if (!done)
                {
                    var members = stack.Skip(stack.IndexOf(model)).ToList();
                    if (!members.All(looping.Contains))
                    {
                        problems.Add(new ModelMapProblem(writtenAs[members[0]], $"fallbacks form a loop: {string.Join(" → ", members.Append(model))}"));
                    }

                    looping.UnionWith(members);
                }

                return;
            }

            state[model] = false;
            stack.Add(model);
            foreach (var next in direct.GetValueOrDefault(model) ?? [])
            {
                Visit(next);
            }

            stack.RemoveAt(stack.Count - 1);
            state[model] = true;
        }

        return looping.Count > 0;
    }

    /// <summary>Each model's full chain: its own list, each entry followed by that entry's chain, each model once.</summary>
    private static Dictionary<string, string[]> Flatten(Dictionary<string, List<string>> direct)
    {
        var chains = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var model in direct.Keys)
        {
            var chain = new List<string>();
            Walk(model, model, chain);
            if (chain.Count > 0)
            {
                chains[model] = [.. chain];
            }
        }

        return chains;

        void Walk(string origin, string model, List<string> chain)
        {
            foreach (var next in direct.GetValueOrDefault(model) ?? [])
            {
                if (next != origin && !chain.Contains(next))
                {
                    chain.Add(next);
                    Walk(origin, next, chain);
                }
            }
        }
    }

    /// <summary>The models to try after <paramref name="model"/> (a resolved name), in order; empty when none.</summary>
    public IReadOnlyList<string> For(string model) => _chains.TryGetValue(model, out var chain) ? chain : [];
}
