using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Synapse.Protocol;

namespace Synapse.Silo.Observability;

/// <summary>
/// OpenTelemetry for the gateway. Metrics are always on (Prometheus scrape at <c>/metrics</c>); traces are on when
/// an OTLP endpoint is configured (the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>) or
/// <c>Synapse:Telemetry:Tracing</c> is true, so an idle tracing pipeline costs nothing per request.
/// </summary>
internal static class TelemetrySetup
{
    private const int FrameworkCardinalityLimit = 200;

    public static void AddGatewayTelemetry(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var otlp = IsOtlpConfigured(configuration);
        var tracing = IsTracingEnabled(configuration);
        var serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "synapse-gateway";

        builder.Services.AddSingleton<GatewayMetrics>();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceVersion: ProtocolVersion.Product))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(GatewayMetrics.MeterName, "Microsoft.Orleans");

                // Every metric stream pre-allocates its cardinality limit in points (2,000 by default, ~144 KB):
                // across Orleans', Kestrel's and the runtime's ~170 instruments that is ~30 MB per silo. Their tags
                // take a handful of values; only the gateway's own metrics, tagged by model, keep the default.
                metrics.AddView(instrument => instrument.Meter.Name == GatewayMetrics.MeterName
                    ? null
                    : new MetricStreamConfiguration { CardinalityLimit = FrameworkCardinalityLimit });
                metrics.AddAspNetCoreInstrumentation();
                metrics.AddRuntimeInstrumentation();
                metrics.AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });

        if (tracing)
        {
            telemetry.WithTracing(traces =>
            {
                traces.AddSource(GatewayActivity.SourceName, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application");
                traces.AddAspNetCoreInstrumentation(o => o.Filter = context => !IsHousekeeping(context.Request.Path));
                if (otlp)
                {
                    traces.AddOtlpExporter();
                }
            });
        }

        if (otlp)
        {
            builder.Logging.AddOpenTelemetry(logs =>
            {
                logs.IncludeScopes = true;
                logs.AddOtlpExporter();
            });
        }

        // Every log line written during a request carries its trace and span ids.
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
    }

    /// <summary>Whether spans are recorded: with an OTLP endpoint, or when asked for (in-process exporters, tests).</summary>
    public static bool IsTracingEnabled(IConfiguration configuration) =>
        IsOtlpConfigured(configuration) || configuration.GetValue("Synapse:Telemetry:Tracing", false);

    private static bool IsOtlpConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    private static bool IsHousekeeping(PathString path) =>
        path.StartsWithSegments("/metrics") || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/status");
}
