using Microsoft.Extensions.Logging;
using Synapse.Client.Hosting;

namespace Synapse.Tests.Infrastructure;

/// <summary>The real agent (<see cref="AgentApp"/>) in this process, with real sockets to a gateway and an upstream.</summary>
public sealed class TestAgent : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;

    private TestAgent(AgentApp app, ILoggerFactory loggers, TestLog log, AgentOptions options)
    {
        App = app;
        _loggers = loggers;
        Log = log;
        Options = options;
        Run = Task.Run(() => app.RunAsync());
    }

    public AgentApp App { get; }

    public AgentOptions Options { get; }

    public TestLog Log { get; }

    /// <summary>The agent's exit code once it stops.</summary>
    public Task<int> Run { get; }

    public static TestAgent Start(Uri gateway, FakeUpstream upstream, Action<AgentOptions>? configure = null) =>
        Start([gateway], upstream.Url, configure);

    public static TestAgent Start(IReadOnlyList<Uri> gateways, string upstream, Action<AgentOptions>? configure = null)
    {
        var options = new AgentOptions
        {
            Upstream = new Uri(upstream),
            ServerUrls = gateways,
            Name = "test-" + Guid.NewGuid().ToString("N")[..6],
            DiscoveryInterval = TimeSpan.FromSeconds(1),
            DrainTimeout = TimeSpan.FromSeconds(10),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
        };
        configure?.Invoke(options);
        var log = new TestLog();
        var loggers = LoggerFactory.Create(b => b.AddProvider(log).SetMinimumLevel(LogLevel.Debug));
        return new TestAgent(new AgentApp(options, loggers), loggers, log, options);
    }

    /// <summary>Starts an agent and waits until its models are served through the gateway.</summary>
    public static async Task<TestAgent> StartServingAsync(TestGateway gateway, FakeUpstream upstream, string model, Action<AgentOptions>? configure = null)
    {
        var agent = Start(gateway.WsUrl, upstream, configure);
        await agent.WaitConnectedAsync();
        await WaitForModelAsync(gateway, model, expectedInstances: null);
        return agent;
    }

    public Task WaitConnectedAsync(int connections = 1) =>
        Eventually.UntilAsync(() => App.ConnectedCount >= connections || Run.IsCompleted, TimeSpan.FromSeconds(20), $"the agent holds {connections} connection(s)");

    public static Task WaitForModelAsync(TestGateway gateway, string model, int? expectedInstances)
    {
        return Eventually.UntilAsync(
            async () =>
            {
                using var http = gateway.CreateClient(gateway.Services.GetApiKey());
                var response = await http.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative));
                if (!response.IsSuccessStatusCode)
                {
                    return false;
                }

                var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                return expectedInstances is null || json.RootElement.GetProperty("client_count").GetInt32() == expectedInstances;
            },
            TimeSpan.FromSeconds(20),
            $"model {model} is served" + (expectedInstances is null ? string.Empty : $" by {expectedInstances} instance(s)"));
    }

    /// <summary>Kills the agent as if its process died: every socket aborted, nothing said.</summary>
    public void Kill() => App.Kill();

    public async ValueTask DisposeAsync()
    {
        App.Kill();
        try
        {
            await Run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception)
        {
        }

        App.Dispose();
        _loggers.Dispose();
    }
}
