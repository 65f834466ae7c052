using Microsoft.Extensions.Logging;
using Synapse.Client.Hosting;

namespace Synapse.Tests.Install;

/// <summary>
/// The agent takes the Go client's names too: <c>--base-url</c>, <c>--api-key</c>, and <c>OPENAI_BASE_URL</c> /
/// <c>OPENAI_API_KEY</c> after the <c>SYNAPSE_*</c> variables. The environment is passed in, never the test
/// process's own, so parallel tests that start agents see none of it.
/// </summary>
[Trait("Category", "Unit")]
public sealed class GoClientFlagsTests
{
    [Fact]
    public async Task GoFlagNames_SetTheUpstreamAndItsKey()
    {
        var options = await ParseAsync(["--base-url", "http://10.0.0.5:8000/v1", "--api-key", "sk-upstream"], []);

        Assert.Equal(new Uri("http://10.0.0.5:8000/v1"), options.Upstream);
        Assert.Equal("sk-upstream", options.UpstreamApiKey);
    }

    [Fact]
    public async Task OpenAIVariables_AreUsed_WhenNothingElseIsGiven()
    {
        var options = await ParseAsync([], new() { ["OPENAI_BASE_URL"] = "http://llm:8000/v1", ["OPENAI_API_KEY"] = "sk-openai" });

        Assert.Equal(new Uri("http://llm:8000/v1"), options.Upstream);
        Assert.Equal("sk-openai", options.UpstreamApiKey);
    }

    [Fact]
    public async Task SynapseVariables_WinOverOpenAIVariables()
    {
        var options = await ParseAsync([], new()
        {
            ["SYNAPSE_UPSTREAM"] = "http://synapse-upstream:8000",
            ["OPENAI_BASE_URL"] = "http://openai-upstream:8000",
            ["SYNAPSE_UPSTREAM_API_KEY"] = "sk-synapse",
            ["OPENAI_API_KEY"] = "sk-openai",
        });

        Assert.Equal(new Uri("http://synapse-upstream:8000"), options.Upstream);
        Assert.Equal("sk-synapse", options.UpstreamApiKey);
    }

    [Theory]
    [InlineData("--base-url", "--api-key")]
    [InlineData("--upstream", "--upstream-api-key")]
    public async Task Flags_UnderEitherName_WinOverEveryVariable(string urlFlag, string keyFlag)
    {
        var options = await ParseAsync([urlFlag, "http://flag:8000", keyFlag, "sk-flag"], new()
        {
            ["SYNAPSE_UPSTREAM"] = "http://synapse-upstream:8000",
            ["OPENAI_BASE_URL"] = "http://openai-upstream:8000",
            ["SYNAPSE_UPSTREAM_API_KEY"] = "sk-synapse",
            ["OPENAI_API_KEY"] = "sk-openai",
        });

        Assert.Equal(new Uri("http://flag:8000"), options.Upstream);
        Assert.Equal("sk-flag", options.UpstreamApiKey);
    }

    [Fact]
    public async Task BadBaseUrl_IsAUsageError()
    {
        var exitCode = await AgentCommandLine.InvokeAsync(["--base-url", "not a url"], (_, _) => Task.FromResult(0), _ => null);

        Assert.Equal(AgentExitCodes.Usage, exitCode);
    }

    private static async Task<AgentOptions> ParseAsync(string[] args, Dictionary<string, string> environment)
    {
        AgentOptions? parsed = null;
        var exitCode = await AgentCommandLine.InvokeAsync(
            args,
            (options, _) =>
            {
                parsed = options;
                return Task.FromResult(0);
            },
            name => environment.GetValueOrDefault(name));

        Assert.Equal(0, exitCode);
        return parsed!;
    }
}
