using System.Diagnostics;
using System.Diagnostics.Metrics;
using Synapse.Protocol;

namespace Synapse.Client.Observability;

/// <summary>
/// The agent's own spans and instruments. They cost nothing unless something listens: the agent exports them over
/// OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (see <see cref="AgentTelemetryExport"/>).
/// </summary>
public sealed class AgentTelemetry : IDisposable
{
    public const string SourceName = "Synapse.Agent";

    private readonly Meter _meter;

    public AgentTelemetry()
    {
        Source = new ActivitySource(SourceName, ProtocolVersion.Product);
        _meter = new Meter(SourceName, ProtocolVersion.Product);
        Requests = _meter.CreateCounter<long>("synapse.agent.requests", "{request}", "Requests served by the agent, by model and upstream status.");
        UpstreamDuration = _meter.CreateHistogram<double>("synapse.agent.upstream.duration", "s", "Time the upstream took to answer completely.");
        UpstreamTimeToHead = _meter.CreateHistogram<double>("synapse.agent.upstream.time_to_head", "s", "Time the upstream took to send its response headers.");
        Reconnects = _meter.CreateCounter<long>("synapse.agent.reconnects", "{connection}", "Sockets to the gateway opened again after one was lost.");
        InFlight = _meter.CreateUpDownCounter<long>("synapse.agent.in_flight", "{request}", "Requests the agent is serving, by model.");
        UpstreamErrors = _meter.CreateCounter<long>("synapse.agent.upstream.errors", "{request}", "Requests the upstream could not serve, by reason.");
    }

    public ActivitySource Source { get; }

    public Counter<long> Requests { get; }

    public Histogram<double> UpstreamDuration { get; }

    public Histogram<double> UpstreamTimeToHead { get; }

    public Counter<long> Reconnects { get; }

    public UpDownCounter<long> InFlight { get; }

    public Counter<long> UpstreamErrors { get; }

    public void Dispose()
    {
        Source.Dispose();
        _meter.Dispose();
    }
}
