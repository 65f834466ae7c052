using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Synapse.Client.Hosting;
using Synapse.Client.Observability;
using Synapse.Client.Update;

return await AgentCommandLine.InvokeAsync(args, async (options, level) =>
{
    using var loggers = new LoggerFactory([new LineLoggerProvider(Console.Out, TimeProvider.System)], new LoggerFilterOptions { MinLevel = level });
    using var telemetry = AgentTelemetryExport.StartIfConfigured(Environment.GetEnvironmentVariable);
    using var app = new AgentApp(options, loggers);

    // First SIGTERM or Ctrl+C drains; a second one stops at once.
    var signals = 0;
    void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Interlocked.Increment(ref signals) == 1)
        {
            _ = app.DrainAsync();
        }
        else
        {
            Console.Error.WriteLine("Second signal: stopping now.");
            Environment.Exit(AgentExitCodes.Interrupted);
        }
    }

    using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    var exitCode = await app.RunAsync();
    if (exitCode == AgentExitCodes.VersionMismatch && options.SelfUpdate && app.Rejection is { } rejection && OperatingSystem.IsLinux())
    {
        var why = await SelfUpdater.UpdateAndRestartAsync(rejection, args, loggers.CreateLogger("Synapse.Client.Update"), CancellationToken.None);
        Console.Error.WriteLine($"error: {why}");
    }

    return exitCode;
});
