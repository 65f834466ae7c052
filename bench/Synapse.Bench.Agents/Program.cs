using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Synapse.Client.Hosting;
using Synapse.Client.Observability;

// Runs --count real agents (the product's AgentApp, the same code as the synapse-client binary) in this one process,
// each with its own agent id, upstream client and one socket to the gateway, until SIGTERM or Ctrl+C.
// Usage: Synapse.Bench.Agents --count N --upstream URL --server-url ws://HOST:PORT/ws [--prefix ID] [--max-concurrency C]
var count = 1000;
var upstream = new Uri("http://127.0.0.1:8081");
var servers = new List<Uri>();
var prefix = "bench-agent";
var capacity = 64;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--count":
            count = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--upstream":
            upstream = new Uri(args[++i]);
            break;
        case "--server-url":
            servers.Add(new Uri(args[++i]));
            break;
        case "--prefix":
            prefix = args[++i];
            break;
        case "--max-concurrency":
            capacity = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        default:
            await Console.Error.WriteLineAsync($"unknown argument {args[i]}");
            return 2;
    }
}

using var loggers = new LoggerFactory([new LineLoggerProvider(Console.Out, TimeProvider.System)], new LoggerFilterOptions { MinLevel = LogLevel.Warning });

using var stop = new CancellationTokenSource();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

var apps = new List<AgentApp>(count);
var runs = new List<Task<int>>(count);
try
{
    for (var i = 0; i < count; i++)
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i:D5}");
        var options = new AgentOptions
        {
            Upstream = upstream,
            ServerUrls = servers.Count > 0 ? servers : [new Uri("ws://127.0.0.1:8080/ws")],
            AgentId = id,
            Name = id,
            Connections = 1,
            MaxConcurrency = capacity,
        };
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            await Console.Error.WriteLineAsync(string.Join('\n', errors));
            return 2;
        }

        var app = new AgentApp(options, loggers);
        apps.Add(app);
        runs.Add(app.RunAsync(stop.Token));
    }

    Console.WriteLine($"{count} agents started");
    await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
}
finally
{
    foreach (var app in apps)
    {
        app.Kill();
    }

    await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
    foreach (var app in apps)
    {
        app.Dispose();
    }
}

return 0;
