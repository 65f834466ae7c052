using Synapse.Silo.Tenancy;

namespace Synapse.Tests.Tenancy;

/// <summary>The small pure parts of a group: model allow-lists, aliases, fallback chains, budget periods.</summary>
[Trait("Category", "Unit")]
public sealed class ModelMapTests
{
    [Theory]
    [InlineData("llama-3.1-8b", true)]
    [InlineData("qwen2.5-7b", true)]
    [InlineData("qwen2.5-72b", false)]
    [InlineData("Llama-3.1-8b", false)]
    [InlineData("llama", false)]
    [InlineData("llama-", true)]
    [InlineData("mistral", false)]
    public void AllowList_MatchesExactNamesAndPrefixes_CaseSensitively(string model, bool allowed)
    {
        var list = ModelAllowList.Create(["llama-*", "qwen2.5-7b"]);

        Assert.Equal(allowed, list.Allows(model));
    }

    [Fact]
    public void AllowList_Star_AllowsEverything_AsDoesNoList()
    {
        Assert.Same(ModelAllowList.Everything, ModelAllowList.Create(["x", "*"]));
        Assert.True(ModelAllowList.Everything.Allows("anything"));
        Assert.True(ModelAllowList.Everything.AllowsEverything);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("*llama")]
    [InlineData("llama*8b")]
    [InlineData("llama**")]
    [InlineData(" llama")]
    public void AllowList_RefusesPatternsItCannotMean(string pattern)
    {
        Assert.False(ModelAllowList.IsValidPattern(pattern, out var reason));
        Assert.NotEmpty(reason);
        Assert.Throws<ArgumentException>(() => ModelAllowList.Create([pattern]));
    }

    [Fact]
    public void AllowList_Intersection_AllowsOnlyWhatBothAllow()
    {
        var group = ModelAllowList.Create(["llama-*", "qwen2.5-7b"]);
        var key = ModelAllowList.Create(["llama-3*", "qwen2.5-7b", "mistral-7b"]);

        var both = group.Intersect(key);

        Assert.True(both.Allows("llama-3.1-8b"));
        Assert.True(both.Allows("qwen2.5-7b"));
        Assert.False(both.Allows("llama-2-7b"));
        Assert.False(both.Allows("mistral-7b"));
        Assert.Same(group, group.Intersect(ModelAllowList.Everything));
        Assert.Same(key, ModelAllowList.Everything.Intersect(key));
        Assert.False(both.Intersect(ModelAllowList.Create(["qwen*"])).Allows("llama-3.1-8b"));
    }

    [Fact]
    public void Aliases_ResolveChainsToTheFinalModel_AndLeaveOtherNamesAlone()
    {
        var problems = new List<ModelMapProblem>();

        var aliases = ModelAliases.Build(
            [new("gpt-4o", "llama-70b"), new("gpt-4o-mini", "gpt-4o"), new("gpt-3.5", "gpt-4o-mini")], problems);

        Assert.Empty(problems);
        Assert.Equal("llama-70b", aliases.Resolve("gpt-3.5"));
        Assert.Equal("llama-70b", aliases.Resolve("gpt-4o"));
        Assert.Equal("llama-8b", aliases.Resolve("llama-8b"));
        Assert.True(aliases.IsAlias("gpt-4o-mini"));
        Assert.False(aliases.IsAlias("llama-70b"));
        Assert.Equal(["gpt-4o", "gpt-4o-mini", "gpt-3.5"], aliases.AliasesOf("llama-70b"));
    }

    [Fact]
    public void Aliases_Loops_AreReportedForEveryAliasOnThem_AndLeftOut()
    {
        var problems = new List<ModelMapProblem>();

        var aliases = ModelAliases.Build([new("a", "b"), new("b", "c"), new("c", "a"), new("d", "e"), new("f", "f")], problems);

        Assert.Equal(["a", "b", "c", "f"], problems.Select(p => p.Name).Order());
        Assert.Contains(problems, p => p.Reason == "aliases form a loop: a → b → c → a");
        Assert.Contains(problems, p => p.Name == "f" && p.Reason == "an alias cannot name itself");
        Assert.Equal("e", aliases.Resolve("d"));
        Assert.Equal("a", aliases.Resolve("a"));
    }

    [Fact]
    public void Fallbacks_FlattenDepthFirst_EachModelOnce()
    {
        var problems = new List<ModelMapProblem>();

        var chains = FallbackChains.Build(
            [
                new("llama-70b", ["llama-8b", "qwen-7b"]),
                new("llama-8b", ["llama-3b", "qwen-7b"]),
                new("qwen-7b", ["llama-3b"]),
            ],
            ModelAliases.None,
            problems);

        Assert.Empty(problems);
        Assert.Equal(["llama-8b", "llama-3b", "qwen-7b"], chains.For("llama-70b"));
        Assert.Equal(["llama-3b", "qwen-7b"], chains.For("llama-8b"));
        Assert.Empty(chains.For("llama-3b"));
        Assert.Empty(chains.For("unknown"));
    }

    [Fact]
    public void Fallbacks_GoThroughAliases_OnBothSides()
    {
        var aliases = ModelAliases.Build([new("gpt-4o", "llama-70b"), new("gpt-4o-mini", "llama-8b")], new List<ModelMapProblem>());
        var problems = new List<ModelMapProblem>();

        var chains = FallbackChains.Build([new("gpt-4o", ["gpt-4o-mini"])], aliases, problems);

        Assert.Empty(problems);
        Assert.Equal(["llama-8b"], chains.For("llama-70b"));
    }

    [Fact]
    public void Fallbacks_ForOneModelUnderTwoNames_AreAnError()
    {
        var aliases = ModelAliases.Build([new("gpt-4o", "llama-70b")], new List<ModelMapProblem>());
        var problems = new List<ModelMapProblem>();

        FallbackChains.Build([new("llama-70b", ["a"]), new("gpt-4o", ["b"])], aliases, problems);

        var problem = Assert.Single(problems);
        Assert.Equal("gpt-4o", problem.Name);
        Assert.Contains("same model ('llama-70b')", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Fallbacks_Loops_AreReportedOnce_IncludingThroughAliases()
    {
        var aliases = ModelAliases.Build([new("big", "llama-70b")], new List<ModelMapProblem>());
        var problems = new List<ModelMapProblem>();

        var chains = FallbackChains.Build([new("llama-70b", ["llama-8b"]), new("llama-8b", ["llama-3b"]), new("llama-3b", ["big"])], aliases, problems);

        var problem = Assert.Single(problems);
        Assert.Equal("llama-70b", problem.Name);
        Assert.Equal("fallbacks form a loop: llama-70b → llama-8b → llama-3b → llama-70b", problem.Reason);
        Assert.Empty(chains.For("llama-70b"));
    }

    [Fact]
    public void Route_ResolvesAliases_AndKeepsOnlyAllowedFallbacks()
    {
        var config = TenancyConfigLoader.Parse("g.yaml", """
            groups:
              - name: alpha
                ws_auth_keys: [ws]
                aliases: { gpt-4o: llama-70b }
                fallbacks: { llama-70b: [llama-8b, qwen-7b] }
                api_keys:
                  - everything
                  - { name: alias-only, key: alias-only-key, models: [gpt-4o, qwen-*] }
                  - { name: small, key: small-key, models: [llama-8b] }
            """u8).Config!;

        var everything = config.FindApiCaller("everything")!.Route("gpt-4o")!;
        Assert.Equal(("gpt-4o", "llama-70b", true), (everything.Requested, everything.Model, everything.IsAlias));
        Assert.Equal(["llama-8b", "qwen-7b"], everything.Fallbacks);

        var aliasOnly = config.FindApiCaller("alias-only-key")!;
        Assert.Equal(["qwen-7b"], aliasOnly.Route("gpt-4o")!.Fallbacks);
        Assert.Null(aliasOnly.Route("llama-70b"));
        Assert.False(aliasOnly.CanUse("llama-70b"));

        var small = config.FindApiCaller("small-key")!;
        Assert.Null(small.Route("gpt-4o"));
        var direct = small.Route("llama-8b")!;
        Assert.Equal(("llama-8b", "llama-8b", false), (direct.Requested, direct.Model, direct.IsAlias));
        Assert.Empty(direct.Fallbacks);
    }

    [Theory]
    [InlineData(BudgetPeriod.Day, "2026-03-04T17:30:00Z", "2026-03-04T00:00:00Z", "2026-03-05T00:00:00Z")]
    [InlineData(BudgetPeriod.Week, "2026-03-04T17:30:00Z", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z")]
    [InlineData(BudgetPeriod.Week, "2026-03-08T23:59:59Z", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z")]
    [InlineData(BudgetPeriod.Week, "2026-03-09T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z")]
    [InlineData(BudgetPeriod.Month, "2026-02-28T23:59:59Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")]
    [InlineData(BudgetPeriod.Month, "2026-12-31T12:00:00+05:00", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")]
    [InlineData(BudgetPeriod.Day, "2026-03-05T01:00:00+02:00", "2026-03-04T00:00:00Z", "2026-03-05T00:00:00Z")]
    public void Budget_Periods_AreCalendarPeriodsInUtc(BudgetPeriod period, string now, string start, string end)
    {
        var budget = new TokenBudget(1000, period);
        var at = DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(DateTimeOffset.Parse(start, System.Globalization.CultureInfo.InvariantCulture), budget.PeriodStart(at));
        Assert.Equal(DateTimeOffset.Parse(end, System.Globalization.CultureInfo.InvariantCulture), budget.PeriodEnd(at));
    }
}
