namespace Synapse.Silo.Tenancy;

/// <summary>Model maps: a group's or key's allowed models, its aliases and its fallback chains.</summary>
internal sealed partial class TenancyFileReader
{
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
}
