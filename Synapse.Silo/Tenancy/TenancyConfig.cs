using Microsoft.Extensions.Primitives;

namespace Synapse.Silo.Tenancy;

/// <summary>
/// The key groups in force: immutable, built once per (re)load, asked on every request. Lookups hash the presented
/// key with SHA-256, find the candidate by hash and confirm it with a constant-time comparison, so neither the
/// number of keys nor their content shows in the time an answer takes. Thread-safe: nothing changes after
/// construction; a reload builds a new one (<see cref="TenancyConfigSource"/>).
/// </summary>
public sealed class TenancyConfig
{
    private readonly Dictionary<string, TenantGroup> _groupsByName;
    private readonly Dictionary<KeyHash, CallerIdentity> _apiKeys;
    private readonly Dictionary<KeyHash, AgentCredential> _agentKeys;
    private readonly CallerIdentity? _anonymousCaller;
    private readonly AgentCredential? _anonymousAgent;

    internal TenancyConfig(
        string? file,
        string fingerprint,
        IReadOnlyList<TenantGroup> groups,
        Dictionary<KeyHash, CallerIdentity> apiKeys,
        Dictionary<KeyHash, AgentCredential> agentKeys,
        IReadOnlyList<string> adminKeyNames)
    {
        File = file;
        Fingerprint = fingerprint;
        Groups = groups;
        AdminKeyNames = adminKeyNames;
        _groupsByName = groups.ToDictionary(g => g.Name, StringComparer.Ordinal);
        _apiKeys = apiKeys;
        _agentKeys = agentKeys;

        // Only the implicit group can be open: a file's groups each need both kinds of key.
        var implicitGroup = groups.Count == 1 && file is null ? groups[0] : null;
        if (implicitGroup is not null && apiKeys.Count == 0)
        {
            _anonymousCaller = new CallerIdentity(default, AnonymousName, isNamed: true, implicitGroup, isAdmin: false, isAnonymous: true, ModelAllowList.Everything, limits: null, budget: null);
        }

        if (implicitGroup is not null && agentKeys.Count == 0)
        {
            _anonymousAgent = new AgentCredential(implicitGroup, AnonymousName, keyHash: null);
        }
    }

    /// <summary>Every caller of a group (not the admin keys), by key name; the anonymous caller of an open gateway.</summary>
    public IEnumerable<CallerIdentity> GroupCallers =>
        _anonymousCaller is not null ? [_anonymousCaller] : _apiKeys.Values.Where(c => !c.IsAdmin).OrderBy(c => c.KeyName, StringComparer.Ordinal);

    /// <summary>The name logs and metrics show for callers and agents of an open gateway.</summary>
    public const string AnonymousName = "anonymous";

    /// <summary>The file this came from; null for the implicit group built from the command line.</summary>
    public string? File { get; }

    /// <summary>A short hash of the file's content (<c>flags</c> without a file), to compare silos on <c>/status</c>.</summary>
    public string Fingerprint { get; }

    public IReadOnlyList<TenantGroup> Groups { get; }

    /// <summary>Names of the admin keys, in file order.</summary>
    public IReadOnlyList<string> AdminKeyNames { get; }

    /// <summary>API calls need a key (false only without <c>--config</c> and without <c>--api-auth-key</c>).</summary>
    public bool ApiKeyRequired => _anonymousCaller is null;

    /// <summary>Agents need a key (false only without <c>--config</c> and without <c>--ws-auth-key</c>).</summary>
    public bool AgentKeyRequired => _anonymousAgent is null;

    /// <summary>API keys of the groups (admin keys not counted).</summary>
    public int ApiKeyCount => _apiKeys.Count - AdminKeyNames.Count;

    public int AgentKeyCount => _agentKeys.Count;

    /// <summary>
    /// The implicit group <c>default</c> from today's flags: one API key and one agent key, each optional (an
    /// absent one leaves that side open, as without groups).
    /// </summary>
    public static TenancyConfig FromFlags(string? apiAuthKey, string? wsAuthKey)
    {
        var apiKey = string.IsNullOrWhiteSpace(apiAuthKey) ? null : apiAuthKey.Trim();
        var wsKey = string.IsNullOrWhiteSpace(wsAuthKey) ? null : wsAuthKey.Trim();
        var apiName = $"{TenantGroup.DefaultName}/key-1";
        var wsName = $"{TenantGroup.DefaultName}/ws-key-1";
        var group = new TenantGroup(TenantGroup.DefaultName, ModelAllowList.Everything, limits: null, budget: null, ModelAliases.None, FallbackChains.None,
            apiKey is null ? [] : [apiName], wsKey is null ? [] : [wsName]);
        var apiKeys = new Dictionary<KeyHash, CallerIdentity>();
        if (apiKey is not null)
        {
            var hash = KeyHash.Of(apiKey);
            apiKeys[hash] = new CallerIdentity(hash, apiName, isNamed: false, group, isAdmin: false, isAnonymous: false, ModelAllowList.Everything, limits: null, budget: null);
        }

        var agentKeys = new Dictionary<KeyHash, AgentCredential>();
        if (wsKey is not null)
        {
            var hash = KeyHash.Of(wsKey);
            agentKeys[hash] = new AgentCredential(group, wsName, hash);
        }

        return new TenancyConfig(file: null, "flags", [group], apiKeys, agentKeys, []);
    }

    public TenantGroup? FindGroup(string name) => _groupsByName.GetValueOrDefault(name);

    /// <summary>
    /// The caller of an API request: <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-API-Key: &lt;key&gt;</c>.
    /// Null when neither holds a known key (answer 401), or when both hold known keys of different callers (which
    /// one was meant is anyone's guess, so neither is taken). An open gateway answers its anonymous caller.
    /// </summary>
    public CallerIdentity? AuthenticateApiCaller(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_anonymousCaller is not null)
        {
            return _anonymousCaller;
        }

        var byBearer = FindApiCaller(BearerToken(request.Headers.Authorization));
        var byHeader = FindApiCaller(request.Headers["X-API-Key"].ToString());
        if (byBearer is not null && byHeader is not null && !ReferenceEquals(byBearer, byHeader))
        {
            return null;
        }

        return byBearer ?? byHeader;
    }

    /// <summary>The caller holding <paramref name="key"/> (as presented, untrimmed), or null.</summary>
    public CallerIdentity? FindApiCaller(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty)
        {
            return null;
        }

        var hash = KeyHash.Of(key);
        return _apiKeys.TryGetValue(hash, out var candidate) && Confirm(hash, candidate) ? candidate : null;
    }

    /// <summary>
    /// What an agent's <c>/ws</c> request is admitted as (the key travels as <c>Authorization: Bearer</c>), or null
    /// to refuse it. An open <c>/ws</c> admits every agent into the implicit group.
    /// </summary>
    public AgentCredential? AuthenticateAgent(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _anonymousAgent ?? FindAgent(BearerToken(request.Headers.Authorization));
    }

    /// <summary>The agent key <paramref name="key"/> (as presented), or null.</summary>
    public AgentCredential? FindAgent(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty)
        {
            return null;
        }

        var hash = KeyHash.Of(key);
        return _agentKeys.TryGetValue(hash, out var candidate) && Confirm(hash, candidate.KeyHash!.Value) ? candidate : null;
    }

    /// <summary>
    /// Whether an agent admitted under an earlier config may stay: its key still exists and still belongs to the
    /// same group. False means close it (<c>key_revoked</c>).
    /// </summary>
    public bool StillAdmits(AgentCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (credential.KeyHash is not { } hash)
        {
            return _anonymousAgent is not null && _anonymousAgent.Group.Name == credential.Group.Name;
        }

        return _agentKeys.TryGetValue(hash, out var current) && current.Group.Name == credential.Group.Name;
    }

    /// <summary>Like <c>ApiKeyValidator</c>: <c>Bearer</c> in any case, the token trimmed.</summary>
    private static ReadOnlySpan<char> BearerToken(StringValues authorization)
    {
        const string Prefix = "Bearer ";
        var header = authorization.ToString().AsSpan();
        return header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? header[Prefix.Length..].Trim() : default;
    }

    private static bool Confirm(KeyHash presented, CallerIdentity candidate) => Confirm(presented, candidate.Hash);

    /// <summary>The dictionary found the candidate by hash; the verdict is a constant-time comparison of all 32 bytes.</summary>
    private static bool Confirm(KeyHash presented, KeyHash stored) => presented.FixedTimeEquals(stored);
}
