namespace Synapse.Silo.Tenancy;

/// <summary>The checked drafts turned into the <see cref="TenancyConfig"/>, with the alias and fallback problems found on the way.</summary>
internal sealed partial class TenancyFileReader
{
    private TenancyConfig? Compile(List<GroupDraft> drafts, List<ConfigKeyEntry> api, List<ConfigKeyEntry> agent, List<ConfigKeyEntry> admin, string fingerprint)
    {
        var groups = new Dictionary<string, TenantGroup>(StringComparer.Ordinal);
        foreach (var draft in drafts)
        {
            var problems = new List<ModelMapProblem>();
            var aliases = ModelAliases.Build(draft.Aliases, problems);
            Report(draft, "aliases", problems);
            problems.Clear();
            var fallbacks = FallbackChains.Build(draft.Fallbacks, aliases, problems);
            Report(draft, "fallbacks", problems);
            groups.TryAdd(draft.Name, new TenantGroup(
                draft.Name,
                draft.Models ?? ModelAllowList.Everything,
                draft.Limits,
                draft.Budget,
                aliases,
                fallbacks,
                api.Where(k => k.Group == draft.Name).Select(k => k.FinalName).ToList(),
                agent.Where(k => k.Group == draft.Name).Select(k => k.FinalName).ToList()));
        }

        if (Failed)
        {
            return null;
        }

        var apiKeys = new Dictionary<KeyHash, CallerIdentity>();
        foreach (var entry in api)
        {
            apiKeys[entry.Hash] = new CallerIdentity(entry.Hash, entry.FinalName, entry.Name is not null, groups[entry.Group!], isAdmin: false, isAnonymous: false,
                entry.Models ?? ModelAllowList.Everything, entry.Limits, entry.Budget);
        }

        foreach (var entry in admin)
        {
            apiKeys[entry.Hash] = new CallerIdentity(entry.Hash, entry.FinalName, entry.Name is not null, group: null, isAdmin: true, isAnonymous: false,
                ModelAllowList.Everything, limits: null, budget: null);
        }

        var agentKeys = agent.ToDictionary(e => e.Hash, e => new AgentCredential(groups[e.Group!], e.FinalName, e.Hash));
        return new TenancyConfig(_file, fingerprint, [.. groups.Values], apiKeys, agentKeys, admin.Select(a => a.FinalName).ToList());
    }

    private void Report(GroupDraft draft, string field, List<ModelMapProblem> problems)
    {
        foreach (var problem in problems)
        {
            var node = Field(Field(draft.Node, field)!, problem.Name) ?? draft.Node;
            Error(node, problem.Reason);
        }
    }
}
