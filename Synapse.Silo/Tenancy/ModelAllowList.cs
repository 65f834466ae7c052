namespace Synapse.Silo.Tenancy;

/// <summary>
/// Which model names a group or key may see and reach: exact names, or <c>prefix*</c> (a single <c>*</c> at the
/// end; <c>*</c> alone allows everything). Names compare ordinally, case included, as OpenAI's model ids do. An
/// intersection (a key's list within its group's) allows what every part allows.
/// </summary>
public sealed class ModelAllowList
{
    private readonly HashSet<string> _exact;
    private readonly string[] _prefixes;
    private readonly bool _all;
    private readonly ModelAllowList? _and;

    private ModelAllowList(IReadOnlyList<string> patterns, HashSet<string> exact, string[] prefixes, bool all, ModelAllowList? and)
    {
        Patterns = patterns;
        _exact = exact;
        _prefixes = prefixes;
        _all = all;
        _and = and;
    }

    /// <summary>No restriction: what a group or key without <c>models:</c> has.</summary>
    public static ModelAllowList Everything { get; } = new(["*"], [], [], all: true, and: null);

    /// <summary>The patterns as written (of this list only; an intersection's parts each keep theirs).</summary>
    public IReadOnlyList<string> Patterns { get; }

    public bool AllowsEverything => ReferenceEquals(this, Everything);

    /// <summary>Builds a list from patterns that <see cref="IsValidPattern"/> accepts (others throw).</summary>
    public static ModelAllowList Create(IEnumerable<string> patterns)
    {
        var list = patterns.ToList();
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var prefixes = new List<string>();
        var all = false;
        foreach (var pattern in list)
        {
            if (!IsValidPattern(pattern, out var reason))
            {
                throw new ArgumentException(reason, nameof(patterns));
            }

            if (pattern == "*")
            {
                all = true;
            }
            else if (pattern.EndsWith('*'))
            {
                prefixes.Add(pattern[..^1]);
            }
            else
            {
                exact.Add(pattern);
            }
        }

        return all ? Everything : new ModelAllowList(list, exact, [.. prefixes], all: false, and: null);
    }

    /// <summary>An exact model name, or a prefix followed by one <c>*</c>.</summary>
    public static bool IsValidPattern(string pattern, out string reason)
    {
        reason = "";
        if (string.IsNullOrWhiteSpace(pattern))
        {
            reason = "a model pattern must not be empty";
            return false;
        }

        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        if (star >= 0 && star != pattern.Length - 1)
        {
            reason = "'*' may only end a pattern (prefix*), once";
            return false;
        }

        if (pattern.Trim().Length != pattern.Length)
        {
            reason = "a model pattern must not start or end with spaces";
            return false;
        }

        return true;
    }

    public bool Allows(string model)
    {
        if (!_all && !_exact.Contains(model) && !MatchesPrefix(model))
        {
            return false;
        }

        return _and is null || _and.Allows(model);
    }

    /// <summary>What both lists allow (a key's models within its group's).</summary>
    public ModelAllowList Intersect(ModelAllowList other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.AllowsEverything || ReferenceEquals(this, other))
        {
            return this;
        }

        if (AllowsEverything)
        {
            return other;
        }

        return new ModelAllowList(Patterns, _exact, _prefixes, _all, _and is null ? other : _and.Intersect(other));
    }

    private bool MatchesPrefix(string model)
    {
        foreach (var prefix in _prefixes)
        {
            if (model.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
