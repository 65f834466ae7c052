using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Synapse.Silo.Agents;
using Synapse.Protocol;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

/// <summary><c>GET /version</c>, as scripts written for the Go original call it: no key, plain text or JSON.</summary>
/// <remarks>The gateway has both keys set: /version must still answer without one.</remarks>
[Trait("Category", "EndToEnd")]
public sealed class VersionTests(SecuredGatewayFixture fixture) : IClassFixture<SecuredGatewayFixture>
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Version_WithoutKey_AnswersTheProductVersionAsPlainText()
    {
        using var client = Gateway.CreateClient();

        using var response = await client.GetAsync(new Uri("/version", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(ProtocolVersion.Product, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Version_Head_AnswersHeadersWithoutBody()
    {
        using var client = Gateway.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/version"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ProtocolVersion.Product.Length, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Version_AskingForJson_AnswersVersionAndAcceptedProtocolRange()
    {
        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/version");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(ProtocolVersion.Product, json.RootElement.GetProperty("version").GetString());
        var accepted = Gateway.Services.GetRequiredService<IOptions<AgentSessionOptions>>().Value;
        Assert.Equal(accepted.MinProtocolVersion, json.RootElement.GetProperty("protocol").GetProperty("min").GetInt32());
        Assert.Equal(accepted.MaxProtocolVersion, json.RootElement.GetProperty("protocol").GetProperty("max").GetInt32());
        Assert.Equal(ProtocolVersion.Current, accepted.MaxProtocolVersion);
    }

    [Fact]
    public async Task Version_CurlStyleAcceptAll_AnswersPlainText()
    {
        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/version");
        request.Headers.Accept.ParseAdd("*/*");

        using var response = await client.SendAsync(request);

        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Version_OtherMethod_Answers405InOpenAIShape(string method)
    {
        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), "/version");
        if (method != "DELETE")
        {
            request.Content = new StringContent("{}");
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("GET", response.Content.Headers.Allow);
        Assert.Equal("method_not_allowed", await Json.ReadErrorCodeAsync(response));
    }
}
