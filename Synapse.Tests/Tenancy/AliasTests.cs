using System.Net;
using System.Text.Json;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Tenancy;

/// <summary>
/// A group's aliases: callers may name the alias, the upstream is asked for the model it stands for, and the alias
/// means nothing in another group.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class AliasTests : IAsyncLifetime
{
    private const string Target = "alias-target-70b";
    private KeyGroupsGateway _host = null!;

    private TestGateway Gateway => _host.Gateway;

    private FakeUpstream Upstream => _host.Upstream;

    public async Task InitializeAsync() => _host = await KeyGroupsGateway.StartAsync(
        $$"""
            groups:
              - name: alpha
                ws_auth_keys: [sekret-alias-ws]
                api_keys: [sekret-alias-alpha]
                aliases: { "gpt-4o": "{{Target}}" }
              - name: beta
                ws_auth_keys: [sekret-alias-ws-beta]
                api_keys: [sekret-alias-beta]

            """, Target, "alpha", "sekret-alias-ws");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Alias_IsServedByItsModel_AndTheUpstreamIsAskedForTheRealName(bool stream)
    {
        using var alpha = Gateway.CreateClient("sekret-alias-alpha");

        using var response = stream
            ? await ChatCalls.StreamAsync(alpha, "gpt-4o", tokens: 3, delayMs: 0)
            : await ChatCalls.PostRawAsync(alpha, "gpt-4o", tokens: 3, delayMs: 0);
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var sent = JsonDocument.Parse(Upstream.Requests.Last().Body);
        Assert.Equal(Target, sent.RootElement.GetProperty("model").GetString());
        Assert.Equal(stream, sent.RootElement.TryGetProperty("stream", out var s) && s.GetBoolean());
    }

    [Fact]
    public async Task Alias_IsListed_InItsGroupOnly_AndMeansNothingInAnother()
    {
        using var alpha = Gateway.CreateClient("sekret-alias-alpha");
        using var beta = Gateway.CreateClient("sekret-alias-beta");

        var listed = (await Json.ReadAsync(await alpha.GetAsync(new Uri("/v1/models", UriKind.Relative)))).GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToArray();
        Assert.Contains("gpt-4o", listed);
        Assert.Contains(Target, listed);
        Assert.Equal(HttpStatusCode.NotFound, await ChatCalls.PostAsync(beta, "gpt-4o"));
        Assert.Equal(HttpStatusCode.NotFound, (await beta.GetAsync(new Uri("/v1/models/gpt-4o", UriKind.Relative))).StatusCode);
    }
}
