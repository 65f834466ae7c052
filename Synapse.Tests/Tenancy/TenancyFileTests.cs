using System.Text;
using Synapse.Silo.Tenancy;

namespace Synapse.Tests.Tenancy;

/// <summary>
/// The key-groups file: the Go original's example (and a JSON twin) loads, every rule violation is an error that
/// names the file, the field and the reason, and no message ever holds a key. Every key in these files starts
/// with "sekret", so one assertion covers them all.
/// </summary>
[Trait("Category", "Unit")]
public sealed class TenancyFileTests
{
    /// <summary>The example of issue 14, as the Go original documents it.</summary>
    public const string GoExample = """
        groups:
          - name: alpha
            ws_auth_keys: [ws-alpha]
            api_keys: [api-alpha]
          - name: beta
            ws_auth_keys: [ws-beta]
            api_keys: [api-beta]
        """;

    public const string GoExampleJson = """
        {
          "groups": [
            { "name": "alpha", "ws_auth_keys": ["ws-alpha"], "api_keys": ["api-alpha"] },
            { "name": "beta", "ws_auth_keys": ["ws-beta"], "api_keys": ["api-beta"] }
          ]
        }
        """;

    private const string File = "/etc/synapse/groups.yaml";

    [Theory]
    [InlineData("groups.yaml", GoExample)]
    [InlineData("groups.yml", GoExample)]
    [InlineData("groups.json", GoExampleJson)]
    [InlineData("groups.conf", GoExample)]
    public void GoExample_FromARealFile_LoadsBothGroupsWithTheirKeys(string name, string content)
    {
        var folder = Directory.CreateTempSubdirectory("synapse-groups-");
        try
        {
            var path = Path.Combine(folder.FullName, name);
            System.IO.File.WriteAllText(path, content);

            var result = TenancyConfigLoader.Load(path);

            Assert.True(result.Outcome == TenancyLoadOutcome.Ok, result.Describe());
            var config = result.Config!;
            Assert.Equal(["alpha", "beta"], config.Groups.Select(g => g.Name));
            Assert.Equal(path, config.File);
            Assert.True(config.ApiKeyRequired);
            Assert.True(config.AgentKeyRequired);
            Assert.Equal("alpha", config.FindApiCaller("api-alpha")?.Group?.Name);
            Assert.Equal("beta", config.FindApiCaller("api-beta")?.Group?.Name);
            Assert.Equal("alpha", config.FindAgent("ws-alpha")?.Group.Name);
            Assert.Equal("beta", config.FindAgent("ws-beta")?.Group.Name);
            Assert.Null(config.FindApiCaller("ws-alpha"));
            Assert.Null(config.FindAgent("api-alpha"));
            Assert.Equal("alpha/key-1", config.FindApiCaller("api-alpha")!.KeyName);
            Assert.Equal("beta/ws-key-1", config.FindAgent("ws-beta")!.KeyName);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void JsonTwin_CompilesToTheSameGroupsAndKeys()
    {
        var yaml = Load("groups.yaml", GoExample);
        var json = Load("groups.json", GoExampleJson);

        Assert.Equal(yaml.Groups.Select(g => (g.Name, string.Join(',', g.ApiKeyNames), string.Join(',', g.AgentKeyNames))),
            json.Groups.Select(g => (g.Name, string.Join(',', g.ApiKeyNames), string.Join(',', g.AgentKeyNames))));
        foreach (var key in new[] { "api-alpha", "api-beta" })
        {
            Assert.Equal(yaml.FindApiCaller(key)!.KeyName, json.FindApiCaller(key)!.KeyName);
        }
    }

    [Fact]
    public void Keys_AreTrimmed_AndRepeatedOrEmptyEntriesIgnored_AsInGo()
    {
        var config = Load("g.yaml", """
            groups:
              - name: "  alpha  "
                ws_auth_keys: [" sekret-ws ", "sekret-ws", ""]
                api_keys: ["sekret-a", " sekret-a", null, "sekret-b"]
            """);

        var group = Assert.Single(config.Groups);
        Assert.Equal("alpha", group.Name);
        Assert.Equal(["alpha/key-1", "alpha/key-4"], group.ApiKeyNames);
        Assert.Equal(["alpha/ws-key-1"], group.AgentKeyNames);
        Assert.NotNull(config.FindApiCaller("sekret-a"));
        Assert.NotNull(config.FindAgent("sekret-ws"));
        Assert.Null(config.FindApiCaller(" sekret-a"));
    }

    [Fact]
    public void SameKeyForAgentsAndCallers_WithinOneGroup_IsAllowed_AsInGo()
    {
        var config = Load("g.yaml", """
            groups:
              - name: alpha
                ws_auth_keys: [sekret-shared]
                api_keys: [sekret-shared]
            """);

        Assert.Equal("alpha", config.FindApiCaller("sekret-shared")?.Group?.Name);
        Assert.Equal("alpha", config.FindAgent("sekret-shared")?.Group.Name);
    }

    [Fact]
    public void Extensions_AllLoad_WithNamesHashesModelsLimitsBudgetsAliasesAndFallbacks()
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes("sekret-hashed")));
        var config = Load("g.yaml", $$"""
            admin_keys:
              - sekret-admin
              - { name: ops, key_sha256: "{{hash.ToUpperInvariant()}}" }
            groups:
              - name: alpha
                models: ["llama-*", "qwen2.5-7b"]
                limits: { rpm: 600, tpm: 100000, max_parallel: 8 }
                budget: { tokens: 1e6, period: month }
                aliases: { gpt-4o: llama-3.1-70b, gpt-4o-mini: gpt-4o }
                fallbacks: { gpt-4o: [llama-3.1-8b] }
                ws_auth_keys: [{ name: alpha-agents, key: sekret-ws }]
                api_keys:
                  - sekret-plain
                  - name: ci-bot
                    key: sekret-ci
                    models: ["llama-3.1-*"]
                    limits: { rpm: 60 }
                    budget: { tokens: 50000, period: day }
            """);

        var group = Assert.Single(config.Groups);
        Assert.Equal(new RateLimits(600, 100000, 8), group.Limits);
        Assert.Equal(new TokenBudget(1_000_000, BudgetPeriod.Month), group.Budget);
        Assert.Equal("llama-3.1-70b", group.Aliases.Resolve("gpt-4o-mini"));
        Assert.Equal(["llama-3.1-8b"], group.Fallbacks.For("llama-3.1-70b"));

        var ci = config.FindApiCaller("sekret-ci")!;
        Assert.Equal("ci-bot", ci.KeyName);
        Assert.True(ci.IsNamed);
        Assert.Equal(new RateLimits(60, null, null), ci.Limits);
        Assert.Equal(new TokenBudget(50000, BudgetPeriod.Day), ci.Budget);
        Assert.True(ci.CanUse("llama-3.1-8b"));
        Assert.False(ci.CanUse("qwen2.5-7b"));

        var plain = config.FindApiCaller("sekret-plain")!;
        Assert.Equal("alpha/key-1", plain.KeyName);
        Assert.True(plain.CanUse("qwen2.5-7b"));
        Assert.False(plain.CanUse("mistral-7b"));

        Assert.Equal("alpha-agents", config.FindAgent("sekret-ws")!.KeyName);
        var ops = config.FindApiCaller("sekret-hashed")!;
        Assert.Equal("ops", ops.KeyName);
        Assert.True(ops.IsAdmin);
        Assert.False(ops.CanCallModels);
        Assert.Equal("admin/key-1", config.FindApiCaller("sekret-admin")!.KeyName);
        Assert.Equal(["admin/key-1", "ops"], config.AdminKeyNames);
    }

    [Theory]
    [InlineData("", "", "the file is empty")]
    [InlineData("- a\n- b", "", "must be a mapping with 'groups:'")]
    [InlineData("admin_keys: [sekret-1]", "groups", "'groups' is missing")]
    [InlineData("groups: []", "groups", "at least one group is required")]
    [InlineData("groups: sekret-x", "groups", "must be a list of groups")]
    [InlineData("grups: []\ngroups: [{name: a, ws_auth_keys: [sekret-w], api_keys: [sekret-a]}]", "grups", "unknown field; did you mean 'groups'?")]
    [InlineData("groups:\n  - ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]", "groups[0].name", "a group needs a non-empty name")]
    [InlineData("groups:\n  - name: '  '\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]", "groups[0].name", "a group needs a non-empty name")]
    [InlineData("groups:\n  - name: team/a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]", "groups[0].name", "a group name must not contain '/'")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w1]\n    api_keys: [sekret-a1]\n  - name: a\n    ws_auth_keys: [sekret-w2]\n    api_keys: [sekret-a2]", "groups[1].name", "group name 'a' is already used at groups[0]")]
    [InlineData("groups:\n  - name: a\n    api_keys: [sekret-a]", "groups[0].ws_auth_keys", "at least one ws_auth_keys entry")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: ['  ']", "groups[0].api_keys", "at least one api_keys entry")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w1]\n    api_keys: [sekret-x]\n  - name: b\n    ws_auth_keys: [sekret-w2]\n    api_keys: [sekret-y, sekret-x]", "groups[1].api_keys[1]", "the same key also appears in group 'a' at groups[0].api_keys[0]")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-x]\n    api_keys: [sekret-a1]\n  - name: b\n    ws_auth_keys: [sekret-x]\n    api_keys: [sekret-a2]", "groups[1].ws_auth_keys[0]", "the same key also appears in group 'a' at groups[0].ws_auth_keys[0]")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-x]\n    api_keys: [sekret-a1]\n  - name: b\n    ws_auth_keys: [sekret-w2]\n    api_keys: [sekret-x]", "groups[1].api_keys[0]", "the same key is an agent key (ws_auth_keys) of group 'a' at groups[0].ws_auth_keys[0]")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a, {name: bot, key: sekret-a}]", "groups[0].api_keys[1]", "listed twice in this list (also at groups[0].api_keys[0])")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [{name: x, nmae: y, key: sekret-a}]", "groups[0].api_keys[0].nmae", "unknown field; did you mean 'name'?")]
    [InlineData("groups:\n  - name: a\n    ws_auth_key: [sekret-w]\n    api_keys: [sekret-a]", "groups[0].ws_auth_key", "did you mean 'ws_auth_keys'?")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [{name: w, key: sekret-w, models: [x]}]\n    api_keys: [sekret-a]", "groups[0].ws_auth_keys[0].models", "unknown field (a key may have name, key, key_sha256)")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [{name: bot, key: sekret-a, key_sha256: 00}]", "groups[0].api_keys[0]", "either 'key' or 'key_sha256', not both")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [{name: bot}]", "groups[0].api_keys[0]", "needs 'key' or 'key_sha256'")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [{name: bot, key_sha256: abc}]", "groups[0].api_keys[0].key_sha256", "must be 64 hexadecimal digits")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [{name: bot, key: '  '}]", "groups[0].api_keys[0].key", "the key must not be empty")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [{name: team/bot, key: sekret-a}]", "groups[0].api_keys[0].name", "a key name may hold letters")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [{name: sekret-a, key: sekret-a}]", "groups[0].api_keys[0].name", "the name is the key itself")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a, {name: sekret-w, key: sekret-b}]", "groups[0].api_keys[1].name", "the name is one of the file's keys")]
    [InlineData("groups:\n  - name: sekret-a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]", "groups[0].name", "the group name is one of the file's keys")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [{name: bot, key: sekret-a}, {name: bot, key: sekret-b}]", "groups[0].api_keys[1].name", "key name 'bot' is already used at groups[0].api_keys[0]")]
    [InlineData("admin_keys: [sekret-adm]\ngroups:\n  - name: admin\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]", "admin_keys[0]", "generated name 'admin/key-1' is also the name of the key at groups[0].api_keys[0]")]
    [InlineData("admin_keys: [sekret-a]\ngroups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]", "admin_keys[0]", "the same key is also an API key of group 'a' at groups[0].api_keys[0]; an admin key must be a key of its own")]
    [InlineData("admin_keys: [sekret-w]\ngroups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]", "admin_keys[0]", "also an agent key (ws_auth_keys) of group 'a'")]
    [InlineData("admin_keys: [{name: ops, key: sekret-adm, models: [x]}]\ngroups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]", "admin_keys[0].models", "unknown field")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [{key: sekret-a, limits: {rpm: -5}}]", "groups[0].api_keys[0].limits.rpm", "must be positive, not -5")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    limits: {tpm: lots}", "groups[0].limits.tpm", "must be a positive whole number, not 'lots'")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    limits: {max_parallel: 2.5}", "groups[0].limits.max_parallel", "must be a positive whole number, not '2.5'")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    limits: {rpm: '100'}", "groups[0].limits.rpm", "must be a number, not a string")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    limits: {rpm: 0}", "groups[0].limits.rpm", "must be positive (leave the field out for no limit)")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    limits: {rps: 5}", "groups[0].limits.rps", "did you mean 'rpm'?")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    limits: [600]", "groups[0].limits", "must be a mapping such as {rpm: 600")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [{key: sekret-a, budget: {tokens: 10, period: day}}]", "groups[0].api_keys[0].budget", "a key with a budget needs a 'name'")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    budget: {tokens: 10, period: fortnight}", "groups[0].budget.period", "must be day, week or month, not 'fortnight'")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    budget: {period: day}", "groups[0].budget", "a budget needs 'tokens'")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    budget: {tokens: 10}", "groups[0].budget", "a budget needs a 'period'")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    models: []", "groups[0].models", "an empty list would allow no model")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    models: ['llama*7b']", "groups[0].models[0]", "'*' may only end a pattern")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    aliases: {x: y, y: x}", "groups[0].aliases.x", "aliases form a loop: x → y → x")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    aliases: {gpt-4o: gpt-4o}", "groups[0].aliases[\"gpt-4o\"]", "an alias cannot name itself")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    fallbacks: {m70b: [m8b], m8b: [m3b], m3b: [m70b]}", "groups[0].fallbacks.m70b", "fallbacks form a loop: m70b → m8b → m3b → m70b")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    aliases: {big: m70b}\n    fallbacks: {m70b: [big]}", "groups[0].fallbacks.m70b", "fallbacks form a loop: m70b → big (an alias of 'm70b')")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    aliases: {big: m70b}\n    fallbacks: {m8b: [big], m70b: [m8b]}", "groups[0].fallbacks.m8b", "fallbacks form a loop: m8b → m70b → m8b")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    fallbacks: {m70b: m8b}", "groups[0].fallbacks.m70b", "non-empty list of the models to try instead")]
    [InlineData("groups:\n  - name: a\n    name: b\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]", "groups[0]", "field 'name' appears twice")]
    [InlineData("groups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n---\ngroups: []", "", "more than one YAML document")]
    [InlineData("x: &x {rpm: 5}\ngroups:\n  - name: a\n    ws_auth_keys: [sekret-w]\n    api_keys: [sekret-a]\n    limits: {<<: *x}", "groups[0].limits[\"<<\"]", "YAML merge keys (<<) are not supported")]
    [InlineData("groups:\n  - name: a\n   ws_auth_keys: [sekret-w]", "", "not valid YAML")]
    public void RuleViolation_IsAnErrorNamingFileFieldAndReason_WithoutTheKey(string yaml, string path, string reason)
    {
        var result = TenancyConfigLoader.Parse(File, Encoding.UTF8.GetBytes(yaml));

        Assert.Equal(TenancyLoadOutcome.Invalid, result.Outcome);
        Assert.Null(result.Config);
        var error = Assert.Single(result.Errors, e => e.Path == path && e.Reason.Contains(reason, StringComparison.Ordinal));
        Assert.Equal(File, error.File);
        Assert.StartsWith($"{File}:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(path.Length > 0 ? $": {path}: {error.Reason}" : $": {error.Reason}", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("sekret", result.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_CarryTheLineAndColumnOfTheField()
    {
        var result = TenancyConfigLoader.Parse(File, Encoding.UTF8.GetBytes("""
            groups:
              - name: alpha
                ws_auth_keys: [sekret-w]
                api_keys:
                  - name: bot
                    nmae: bot
                    key: sekret-a
            """));

        var error = Assert.Single(result.Errors);
        Assert.Equal((6, 9), (error.Line, error.Column));
        Assert.StartsWith($"{File}:6:9: groups[0].api_keys[0].nmae: unknown field; did you mean 'name'?", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"groups": [{"name": "a", "ws_auth_keys": ["sekret-w"], "api_keys": [{"nmae": "x", "key": "sekret-a"}]}]}""", "groups[0].api_keys[0].nmae", "unknown field")]
    [InlineData("""{"groups": [{"name": "a", "ws_auth_keys": ["sekret-w"], "api_keys": ["sekret-a"], "limits": {"rpm": "60"}}]}""", "groups[0].limits.rpm", "must be a number, not a string")]
    [InlineData("""{"groups": [{"name": "a", "name": "b", "ws_auth_keys": ["sekret-w"], "api_keys": ["sekret-a"]}]}""", "groups[0]", "field 'name' appears twice")]
    [InlineData("""{"groups": [{"name": "a", "ws_auth_keys": ["sekret-w"], "api_keys": [sekret-a]}]}""", "", "not valid JSON")]
    [InlineData("""{"groups": [{"name": "a", "ws_auth_keys": ["sekret-w"], "api_keys": ["sekret-a"]}]} {"groups": []}""", "", "not valid JSON")]
    public void JsonRuleViolation_IsReportedLikeYaml(string json, string path, string reason)
    {
        var result = TenancyConfigLoader.Parse("/etc/synapse/groups.json", Encoding.UTF8.GetBytes(json));

        Assert.Equal(TenancyLoadOutcome.Invalid, result.Outcome);
        Assert.Single(result.Errors, e => e.Path == path && e.Reason.Contains(reason, StringComparison.Ordinal) && e.File == "/etc/synapse/groups.json" && e.Line == 1);
        Assert.DoesNotContain("sekret", result.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryError_IsReported_NotJustTheFirst()
    {
        var result = TenancyConfigLoader.Parse(File, Encoding.UTF8.GetBytes("""
            groups:
              - name: alpha
                ws_auth_keys: [sekret-w1]
                api_keys: [sekret-a1]
                limits: { rpm: -1 }
              - name: alpha
                ws_auth_keys: [sekret-w2]
                api_keys: [sekret-a1]
              - name: gamma
                api_keys: [{ key: sekret-g, budget: { tokens: 5, period: year } }]
            """));

        Assert.Equal(
            [
                "groups[0].limits.rpm",
                "groups[1].api_keys[0]",
                "groups[1].name",
                "groups[2].api_keys[0].budget",
                "groups[2].api_keys[0].budget.period",
                "groups[2].ws_auth_keys",
            ],
            result.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("sekret", result.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyTypedWhereAFieldNameBelongs_IsScrubbedFromTheMessage()
    {
        // The key is also listed properly, so the scrubber knows it; the mistaken field is named without it.
        var result = TenancyConfigLoader.Parse(File, Encoding.UTF8.GetBytes("""
            groups:
              - name: alpha
                ws_auth_keys: [sekret-w]
                api_keys: [sekret-0123456789]
                sekret-0123456789: oops
            """));

        var error = Assert.Single(result.Errors);
        Assert.Equal("groups[0][\"(a key)\"]", error.Path);
        Assert.DoesNotContain("sekret", result.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void YamlAliasBomb_IsRefused_WithoutExpandingIt()
    {
        var yaml = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 10; i++)
        {
            yaml.Append($"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n");
        }

        var result = TenancyConfigLoader.Parse(File, Encoding.UTF8.GetBytes(yaml.ToString()));

        Assert.Contains("more than 100000 nodes", Assert.Single(result.Errors).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void YamlAnchors_AreFollowed_AndErrorsPointAtTheUse()
    {
        var result = TenancyConfigLoader.Parse(File, Encoding.UTF8.GetBytes("""
            groups:
              - name: a
                ws_auth_keys: [sekret-w1]
                api_keys: [sekret-a1]
                limits: &limits { rpm: 60 }
              - name: b
                ws_auth_keys: [sekret-w2]
                api_keys: [sekret-a2]
                limits: *limits
              - name: c
                ws_auth_keys: [sekret-w3]
                api_keys: [sekret-a3]
                models: &bad ["x*y"]
              - name: d
                ws_auth_keys: [sekret-w4]
                api_keys: [sekret-a4]
                models: *bad
            """));

        Assert.Equal(["groups[2].models[0]", "groups[3].models[0]"], result.Errors.Select(e => e.Path));
    }

    [Fact]
    public void UnreadableFile_IsReportedAsUnreadable_NamingTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"synapse-missing-{Guid.NewGuid():N}.yaml");

        var result = TenancyConfigLoader.Load(path);

        Assert.Equal(TenancyLoadOutcome.Unreadable, result.Outcome);
        Assert.Equal($"{path}: the file does not exist", Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public void Fingerprint_FollowsTheContent()
    {
        var a = Load("g.yaml", GoExample);
        var b = Load("g.yaml", GoExample + "\n# a comment\n");

        Assert.Equal(12, a.Fingerprint.Length);
        Assert.Equal(a.Fingerprint, Load("g.yaml", GoExample).Fingerprint);
        Assert.NotEqual(a.Fingerprint, b.Fingerprint);
    }

    private static TenancyConfig Load(string name, string content)
    {
        var result = TenancyConfigLoader.Parse(name, Encoding.UTF8.GetBytes(content));
        Assert.True(result.Outcome == TenancyLoadOutcome.Ok, result.Describe());
        return result.Config!;
    }
}
