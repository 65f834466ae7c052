using System.Diagnostics;
using System.Diagnostics.Metrics;
using Synapse.Silo.Agents;
using Synapse.Silo.Observability.History;
using Synapse.Silo.Status;

namespace Synapse.Silo.Observability;

/// <summary>
/// The gateway's instruments, named after the OpenTelemetry GenAI semantic conventions where they exist and
/// <c>synapse.*</c> otherwise. Gauges over the whole cluster (instances and queue per model) come from the status
/// cache every silo keeps; dashboards take their max across silos, sums for per-silo ones.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "Synapse.Gateway";

    public GatewayMetrics(IMeterFactory meters, RequestHistory history, IServiceProvider services)
    {
        History = history;
        var meter = meters.Create(MeterName);
        RequestDuration = meter.CreateHistogram<double>("gen_ai.server.request.duration", "s", "Time to serve a generation request, to its last byte.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });
        TimeToFirstToken = meter.CreateHistogram<double>("gen_ai.server.time_to_first_token", "s", "Time from the request to its first response bytes reaching the caller.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        TokenUsage = meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens per request, as the upstream reported them in usage.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144] });
        Requests = meter.CreateCounter<long>("synapse.requests", "{request}", "API requests by model, route and status.");
        InFlight = meter.CreateUpDownCounter<long>("synapse.requests.in_flight", "{request}", "API requests this silo has on an instance, by model (waiting ones are in the queue length).");
        Retries = meter.CreateCounter<long>("synapse.retries", "{retry}", "Requests moved to another instance or path before answering, by reason.");
        Fallbacks = meter.CreateCounter<long>("synapse.fallbacks", "{request}", "Requests served by a fallback because no instance of their model could take them, by model, fallback and reason.");
        CrossSilo = meter.CreateCounter<long>("synapse.cross_silo.requests", "{request}", "Requests whose agent socket was on another silo.");
        QueueWait = meter.CreateHistogram<double>("synapse.queue.wait", "s", "Time requests waited for a free instance.");
        RefusedRequests = meter.CreateCounter<long>("synapse.requests.refused", "{request}", "API requests refused for a limit (rate_limited) or a spent budget (quota_exceeded), by key and group.");
        AgentConnections = meter.CreateCounter<long>("synapse.agent.connections", "{connection}", "Agent sockets opened on this silo.");
        AgentReconnects = meter.CreateCounter<long>("synapse.agent.reconnects", "{connection}", "Agent sockets opened by agents that had been connected before.");

        meter.CreateObservableGauge("synapse.agents.connected", () => (long)services.GetRequiredService<AgentSessionRegistry>().Count,
            "{agent}", "Agent sockets held by this silo.");
        meter.CreateObservableGauge("synapse.agent.in_flight", () => services.GetRequiredService<AgentSessionRegistry>().Sessions
            .SelectMany(s => s.InFlightByModel().Select(m => new Measurement<long>(m.Value,
                new KeyValuePair<string, object?>("gen_ai.request.model", m.Key),
                new KeyValuePair<string, object?>(RequestTelemetry.GroupTag, s.Group),
                new KeyValuePair<string, object?>("synapse.agent.id", s.AgentId),
                new KeyValuePair<string, object?>("synapse.agent.name", s.AgentName)))),
            "{request}", "Requests in flight on each agent socket of this silo, by model.");
        meter.CreateObservableGauge("synapse.engine.queue", () => EngineGauge(services, l => l.Waiting),
            "{request}", "Requests waiting in each agent's engine (vLLM, SGLang, llama.cpp), by model, as the agent read it.");
        meter.CreateObservableGauge("synapse.engine.running", () => EngineGauge(services, l => l.Running),
            "{request}", "Requests each agent's engine is generating for, by model, as the agent read it.");
        meter.CreateObservableGauge("synapse.engine.kv_usage", () => EngineGauge(services, l => l.KvUsage),
            "1", "Fraction of each agent's engine KV cache in use (0 to 1), by model, as the agent read it.");
        meter.CreateObservableGauge("synapse.model.instances", () => Cached(services).Select(m => new Measurement<long>(m.Instances.Length,
                new KeyValuePair<string, object?>("gen_ai.request.model", m.Id),
                new KeyValuePair<string, object?>(RequestTelemetry.GroupTag, m.Group))),
            "{instance}", "Live instances per model (cluster-wide; take the max across silos).");
        meter.CreateObservableGauge("synapse.model.capacity", () => Cached(services).Select(m => new Measurement<long>(m.Instances.Sum(i => (long)i.Capacity),
                new KeyValuePair<string, object?>("gen_ai.request.model", m.Id),
                new KeyValuePair<string, object?>(RequestTelemetry.GroupTag, m.Group))),
            "{request}", "Summed capacity per model (cluster-wide; take the max across silos).");
        meter.CreateObservableGauge("synapse.queue.length", () => Cached(services).Select(m => new Measurement<long>(m.Queued,
                new KeyValuePair<string, object?>("gen_ai.request.model", m.Id),
                new KeyValuePair<string, object?>(RequestTelemetry.GroupTag, m.Group))),
            "{request}", "Requests waiting for a free instance per model (cluster-wide; take the max across silos).");
    }

    /// <summary>The last minutes of traffic, second by second, for the status page's charts.</summary>
    public RequestHistory History { get; }

    public Histogram<double> RequestDuration { get; }

    public Histogram<double> TimeToFirstToken { get; }

    public Histogram<long> TokenUsage { get; }

    public Counter<long> Requests { get; }

    public UpDownCounter<long> InFlight { get; }

    public Counter<long> Retries { get; }

    public Counter<long> CrossSilo { get; }

    public Counter<long> Fallbacks { get; }

    public Histogram<double> QueueWait { get; }

    public Counter<long> AgentConnections { get; }

    public Counter<long> RefusedRequests { get; }

    /// <summary>Counts a call refused before it was forwarded, for <paramref name="reason"/> (<c>rate_limited</c>, <c>quota_exceeded</c>).</summary>
    public void Refused(Tenancy.CallerIdentity caller, string reason) => RefusedRequests.Add(1, new TagList
    {
        { RequestTelemetry.GroupTag, caller.Group?.Name },
        { RequestTelemetry.KeyTag, caller.KeyName },
        { "synapse.reason", reason },
    });

    public Counter<long> AgentReconnects { get; }

    /// <summary>One measurement per model of every agent socket on this silo with a fresh engine signal that has the value.</summary>
    private static IEnumerable<Measurement<double>> EngineGauge(IServiceProvider services, Func<Grains.Agents.EngineLoad, double?> value) =>
        services.GetRequiredService<AgentSessionRegistry>().Sessions
            .SelectMany(s => s.EngineSignals.All
                .Where(l => value(l) is not null)
                .Select(l => new Measurement<double>(value(l)!.Value,
                    new KeyValuePair<string, object?>("gen_ai.request.model", l.Model),
                    new KeyValuePair<string, object?>(RequestTelemetry.GroupTag, s.Group),
                    new KeyValuePair<string, object?>("synapse.agent.id", s.AgentId),
                    new KeyValuePair<string, object?>("synapse.agent.name", s.AgentName))));

    private static IEnumerable<ModelStatus> Cached(IServiceProvider services) =>
        services.GetRequiredService<ClusterStatusProvider>().Latest?.Models ?? [];
}
