using Microsoft.AspNetCore.Http;
using Synapse.Silo.Tenancy;

namespace Synapse.Tests.Tenancy;

/// <summary>The compiled config as the request path asks it: who a key is, which group an agent joins.</summary>
[Trait("Category", "Unit")]
public sealed class TenancyConfigTests
{
    private static readonly TenancyConfig Config = TenancyConfigLoader.Parse("groups.yaml", """
        admin_keys: [{ name: ops, key: admin-key }]
        groups:
          - name: alpha
            ws_auth_keys: [alpha-ws]
            api_keys: [alpha-api, { name: alpha-bot, key: alpha-bot-key }]
          - name: beta
            ws_auth_keys: [beta-ws]
            api_keys: [beta-api]
        """u8).Config!;

    [Theory]
    [InlineData("Authorization", "Bearer alpha-api", "alpha/key-1")]
    [InlineData("Authorization", "bearer alpha-bot-key", "alpha-bot")]
    [InlineData("Authorization", "BEARER   beta-api  ", "beta/key-1")]
    [InlineData("X-API-Key", "beta-api", "beta/key-1")]
    [InlineData("X-API-Key", "admin-key", "ops")]
    public void ApiCaller_IsFoundByEitherHeader(string header, string value, string keyName)
    {
        var caller = Config.AuthenticateApiCaller(Request((header, value)));

        Assert.Equal(keyName, caller?.KeyName);
    }

    [Theory]
    [InlineData("Authorization", "Bearer nope")]
    [InlineData("Authorization", "Basic alpha-api")]
    [InlineData("Authorization", "alpha-api")]
    [InlineData("Authorization", "Bearer ")]
    [InlineData("X-API-Key", "alpha-ws")]
    [InlineData("X-API-Key", "")]
    [InlineData("X-Other", "alpha-api")]
    public void ApiCaller_WithoutAKnownKey_IsNobody(string header, string value)
    {
        Assert.Null(Config.AuthenticateApiCaller(Request((header, value))));
    }

    [Fact]
    public void ApiCaller_TwoHeaders_SameKeyOrOneUnknown_IsTheKnownKey_TwoDifferentKeys_IsNobody()
    {
        Assert.Equal("alpha/key-1", Config.AuthenticateApiCaller(Request(("Authorization", "Bearer alpha-api"), ("X-API-Key", "alpha-api")))?.KeyName);
        Assert.Equal("beta/key-1", Config.AuthenticateApiCaller(Request(("Authorization", "Bearer wrong"), ("X-API-Key", "beta-api")))?.KeyName);
        Assert.Null(Config.AuthenticateApiCaller(Request(("Authorization", "Bearer alpha-api"), ("X-API-Key", "beta-api"))));
    }

    [Fact]
    public void Agent_IsAdmittedByBearerKey_IntoItsKeysGroupOnly()
    {
        Assert.Equal("beta", Config.AuthenticateAgent(Request(("Authorization", "Bearer beta-ws")))?.Group.Name);
        Assert.Null(Config.AuthenticateAgent(Request(("Authorization", "Bearer beta-api"))));
        Assert.Null(Config.AuthenticateAgent(Request(("X-API-Key", "beta-ws"))));
        Assert.Null(Config.AuthenticateAgent(Request()));
    }

    [Fact]
    public void AdminKey_SeesEveryGroup_ButCallsNoModel()
    {
        var admin = Config.FindApiCaller("admin-key")!;
        var alpha = Config.FindApiCaller("alpha-api")!;

        Assert.True(admin.IsAdmin);
        Assert.False(admin.CanCallModels);
        Assert.Null(admin.Group);
        Assert.Null(admin.Route("anything"));
        Assert.True(admin.CanSee("alpha") && admin.CanSee("beta"));
        Assert.True(alpha.CanCallModels);
        Assert.True(alpha.CanSee("alpha"));
        Assert.False(alpha.CanSee("beta"));
    }

    [Fact]
    public void SameKeyObject_IsReturnedForEveryRequest()
    {
        Assert.Same(Config.FindApiCaller("alpha-api"), Config.FindApiCaller("alpha-api"));
    }

    [Fact]
    public void HashedKey_AdmitsTheClearKey_AndNothingElse()
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("the-clear-key"u8));
        var config = TenancyConfigLoader.Parse("g.yaml", System.Text.Encoding.UTF8.GetBytes($$"""
            groups: [{ name: a, ws_auth_keys: [{ name: agents, key_sha256: {{hash}} }], api_keys: [{ name: app, key_sha256: {{hash}} }] }]
            """)).Config!;

        Assert.Equal("app", config.FindApiCaller("the-clear-key")?.KeyName);
        Assert.Equal("agents", config.FindAgent("the-clear-key")?.KeyName);
        Assert.Null(config.FindApiCaller(hash));
    }

    [Fact]
    public void FromFlags_WithoutKeys_IsOpen_AsToday()
    {
        var config = TenancyConfig.FromFlags(null, "");

        Assert.False(config.ApiKeyRequired);
        Assert.False(config.AgentKeyRequired);
        var caller = config.AuthenticateApiCaller(Request());
        Assert.NotNull(caller);
        Assert.True(caller.IsAnonymous);
        Assert.Equal(TenancyConfig.AnonymousName, caller.KeyName);
        Assert.Equal(TenantGroup.DefaultName, caller.Group?.Name);
        Assert.Same(caller, config.AuthenticateApiCaller(Request(("Authorization", "Bearer whatever"))));
        Assert.Equal(TenantGroup.DefaultName, config.AuthenticateAgent(Request())?.Group.Name);
        Assert.Null(config.File);
        Assert.Equal("flags", config.Fingerprint);
    }

    [Fact]
    public void FromFlags_WithKeys_RequiresThem_InTheDefaultGroup()
    {
        var config = TenancyConfig.FromFlags(" api-key ", "ws-key");

        Assert.True(config.ApiKeyRequired);
        Assert.True(config.AgentKeyRequired);
        Assert.Null(config.AuthenticateApiCaller(Request()));
        Assert.Equal("default/key-1", config.AuthenticateApiCaller(Request(("X-API-Key", "api-key")))?.KeyName);
        Assert.Equal("default/ws-key-1", config.AuthenticateAgent(Request(("Authorization", "Bearer ws-key")))?.KeyName);
        Assert.Null(config.AuthenticateAgent(Request(("Authorization", "Bearer api-key"))));
    }

    [Fact]
    public void FromFlags_OneKeyOnly_LeavesTheOtherSideOpen()
    {
        var config = TenancyConfig.FromFlags("api-key", null);

        Assert.True(config.ApiKeyRequired);
        Assert.False(config.AgentKeyRequired);
        Assert.NotNull(config.AuthenticateAgent(Request()));
    }

    [Fact]
    public void StillAdmits_AnAgent_OnlyWhileItsKeyStaysInItsGroup()
    {
        var alphaAgent = Config.FindAgent("alpha-ws")!;
        var betaAgent = Config.FindAgent("beta-ws")!;
        var next = TenancyConfigLoader.Parse("groups.yaml", """
            groups:
              - name: alpha
                ws_auth_keys: [alpha-ws-new]
                api_keys: [alpha-api]
              - name: gamma
                ws_auth_keys: [beta-ws]
                api_keys: [beta-api]
            """u8).Config!;

        Assert.True(Config.StillAdmits(alphaAgent));
        Assert.False(next.StillAdmits(alphaAgent));
        Assert.False(next.StillAdmits(betaAgent));
        var open = TenancyConfig.FromFlags(null, null);
        Assert.True(open.StillAdmits(open.AuthenticateAgent(Request())!));
        Assert.False(Config.StillAdmits(open.AuthenticateAgent(Request())!));
    }

    [Fact]
    public void KeyHash_NeverShowsTheKey_AndParsesSha256sumOutput()
    {
        var hash = KeyHash.Of("secret-value");
        var hex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("secret-value"u8));

        Assert.True(KeyHash.TryParseHex(hex.ToUpperInvariant(), out var parsed));
        Assert.Equal(hash, parsed);
        Assert.True(hash.FixedTimeEquals(parsed));
        Assert.False(hash.FixedTimeEquals(KeyHash.Of("secret-valuf")));
        Assert.Equal($"sha256:{hex[..8]}…", hash.ToString());
        Assert.False(KeyHash.TryParseHex(hex[..62], out _));
        Assert.False(KeyHash.TryParseHex(hex[..63] + "g", out _));
    }

    [Fact]
    public void LongKeys_AreHashedWithoutTrouble()
    {
        var key = new string('k', 10_000);
        var config = TenancyConfig.FromFlags(key, null);

        Assert.NotNull(config.FindApiCaller(key));
        Assert.Null(config.FindApiCaller(key.AsSpan(1)));
    }

    private static HttpRequest Request(params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        return context.Request;
    }
}
