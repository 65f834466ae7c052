using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Synapse.Protocol;

namespace Synapse.Client.Observability;

/// <summary>OTLP export of the agent's spans and metrics, switched on by the standard OTEL_* environment variables.</summary>
public static class AgentTelemetryExport
{
    /// <summary>Starts the exporters when an OTLP endpoint is configured; null (nothing running) otherwise.</summary>
    public static IDisposable? StartIfConfigured(Func<string, string?> environment)
    {
        if (string.IsNullOrWhiteSpace(environment("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            return null;
        }

        var serviceName = environment("OTEL_SERVICE_NAME") is { Length: > 0 } name ? name : "synapse-agent";
        var resource = ResourceBuilder.CreateDefault().AddService(serviceName, serviceVersion: ProtocolVersion.Product);
        var tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(AgentTelemetry.SourceName)
            .AddOtlpExporter()
            .Build();
        var meter = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(AgentTelemetry.SourceName)
            .AddOtlpExporter()
            .Build();
        return new Providers(tracer, meter);
    }

    private sealed class Providers(TracerProvider? tracer, MeterProvider? meter) : IDisposable
    {
        public void Dispose()
        {
            tracer?.Dispose();
            meter?.Dispose();
        }
    }
}
