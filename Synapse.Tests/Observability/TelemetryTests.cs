using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Synapse.Client.Observability;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Observability;

/// <summary>A gateway with tracing on and in-memory exporters beside its own.</summary>
public sealed class TelemetryFixture : IAsyncLifetime
{
    public List<Activity> Spans { get; } = [];

    public List<Metric> Metrics { get; } = [];

    public TestGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Gateway = await TestGateway.StartAsync(
            new Dictionary<string, string?> { ["Synapse:Telemetry:Tracing"] = "true" },
            configure: builder =>
            {
                builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(Spans));
                builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(Metrics));
            });
    }

    public async Task DisposeAsync() => await Gateway.DisposeAsync();

    public void FlushMetrics() => Gateway.Services.GetRequiredService<MeterProvider>().ForceFlush();
}

[Trait("Category", "EndToEnd")]
public sealed class TelemetryTests(TelemetryFixture fixture) : IClassFixture<TelemetryFixture>
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Trace_SpansCallerGatewayAgentAndUpstreamWithOneTraceId()
    {
        var agentSpans = new List<Activity>();
        using var agentTracer = Sdk.CreateTracerProviderBuilder().AddSource(AgentTelemetry.SourceName).AddInMemoryExporter(agentSpans).Build();
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();

        using var client = Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var received = Assert.Single(upstream.Requests).Headers["traceparent"];
        Assert.Equal(traceId.ToString(), received.Split('-')[1]);
        await Eventually.UntilAsync(() => Snapshot(fixture.Spans).Any(s => s.TraceId == traceId && s.Source.Name == "Synapse.Gateway"), TimeSpan.FromSeconds(5), "the gateway span is exported");
        await Eventually.UntilAsync(() => Snapshot(agentSpans).Any(s => s.TraceId == traceId), TimeSpan.FromSeconds(5), "the agent span is exported");

        var spans = Snapshot(fixture.Spans).Where(s => s.TraceId == traceId).ToArray();
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server && s.ParentSpanId == callerSpan);
        Assert.Equal("POST /v1/{**path}", server.DisplayName);
        var proxy = Assert.Single(spans, s => s.Source.Name == "Synapse.Gateway");
        Assert.Equal(server.SpanId, proxy.ParentSpanId);
        Assert.Contains(spans, s => s.DisplayName == "IModelGrain/Acquire" && s.ParentSpanId == proxy.SpanId);
        Assert.Equal($"chat {model}", proxy.DisplayName);
        Assert.Equal(model, proxy.GetTagItem("gen_ai.request.model"));
        var agentSpan = Assert.Single(Snapshot(agentSpans), s => s.TraceId == traceId);
        Assert.Equal(proxy.SpanId, agentSpan.ParentSpanId);
        Assert.Equal(agentSpan.SpanId.ToString(), received.Split('-')[2]);
    }

    [Fact]
    public async Task Metrics_AfterRealRequests_RecordDurationFirstTokenAndTokenUsageByModel()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);

        using var client = Gateway.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));
        using (var stream = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$$"""{"model":"{{{model}}}","stream":true,"stream_options":{"include_usage":true}}""", Encoding.UTF8, "application/json"),
        })
        {
            stream.Headers.Add("X-Fake-Tokens", "7");
            using var response = await client.SendAsync(stream);
            await response.Content.ReadAsStringAsync();
        }

        await Eventually.UntilAsync(
            () =>
            {
                fixture.FlushMetrics();
                return Points(fixture.Metrics, "gen_ai.client.token.usage", model).Any();
            },
            TimeSpan.FromSeconds(10),
            "token usage is recorded");

        Assert.NotEmpty(Points(fixture.Metrics, "gen_ai.server.request.duration", model));
        Assert.NotEmpty(Points(fixture.Metrics, "gen_ai.server.time_to_first_token", model));
        var requests = Points(fixture.Metrics, "synapse.requests", model).ToArray();
        Assert.Contains(requests, p => Tag(p, "http.route") == "/v1/chat/completions" && Tag(p, "http.response.status_code") == "200");
        var usage = Points(fixture.Metrics, "gen_ai.client.token.usage", model).ToArray();
        Assert.Contains(usage, p => Tag(p, "gen_ai.token.type") == "output" && p.GetHistogramSum() >= 7);
        Assert.Contains(usage, p => Tag(p, "gen_ai.token.type") == "input" && p.GetHistogramSum() >= 3);
    }

    [Fact]
    public async Task MetricsEndpoint_IsScrapeableAndCarriesTheGatewayMetrics()
    {
        var model = GatewayFixture.UniqueModel();
        await using var upstream = await FakeUpstream.StartAsync("u1", model);
        await using var agent = await TestAgent.StartServingAsync(Gateway, upstream, model);
        using var client = Gateway.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await ChatCalls.PostAsync(client, model));

        string scrape = string.Empty;
        await Eventually.UntilAsync(
            async () =>
            {
                scrape = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
                return scrape.Contains(model, StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(10),
            "the scrape mentions the model");

        Assert.Contains("gen_ai_server_request_duration_seconds_bucket", scrape, StringComparison.Ordinal);
        Assert.Contains("synapse_requests_total", scrape, StringComparison.Ordinal);
        Assert.Contains("synapse_agents_connected", scrape, StringComparison.Ordinal);
        Assert.Contains("synapse_agent_in_flight", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ModelServedNowhere_IsCountedUnderOneTagNotTheCallersName()
    {
        var invented = "invented-" + Guid.NewGuid().ToString("N");
        using var client = Gateway.CreateClient();

        Assert.Equal(HttpStatusCode.NotFound, await ChatCalls.PostAsync(client, invented));

        var scrape = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.True(!scrape.Contains(invented, StringComparison.Ordinal), string.Join("\n", scrape.Split('\n').Where(l => l.Contains(invented, StringComparison.Ordinal)).Take(5)));
        Assert.Contains("gen_ai_request_model=\"_unknown\"", scrape, StringComparison.Ordinal);
    }

    private static Activity[] Snapshot(List<Activity> spans)
    {
        lock (spans)
        {
            return [.. spans];
        }
    }

    private static IEnumerable<MetricPoint> Points(List<Metric> metrics, string name, string model)
    {
        Metric[] snapshot;
        lock (metrics)
        {
            snapshot = [.. metrics];
        }

        foreach (var metric in snapshot.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                if (Tag(point, "gen_ai.request.model") == model)
                {
                    yield return point;
                }
            }
        }
    }

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key)
            {
                return Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return null;
    }
}
