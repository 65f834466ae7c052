using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Synapse.Bench.Upstream;

// A fast fake OpenAI-compatible server for the benchmark (not the tests' fake: nothing is recorded or logged, and
// every answer is precomputed bytes). Usage: Synapse.Bench.Upstream [--port N] [--host 127.0.0.1] [--model ID]...
// Prints "listening http://host:port" on stdout once it accepts connections.
var port = 0;
var host = IPAddress.Loopback;
var models = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port":
            port = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--host":
            host = IPAddress.Parse(args[++i]);
            break;
        case "--model":
            models.Add(args[++i]);
            break;
        default:
            await Console.Error.WriteLineAsync($"unknown argument {args[i]}; usage: [--port N] [--host IP] [--model ID]...");
            return 2;
    }
}

if (models.Count == 0)
{
    models.Add("bench-model");
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Limits.MaxConcurrentConnections = null;
    kestrel.Limits.MaxConcurrentUpgradedConnections = null;
    kestrel.Listen(host, port, listen => listen.Protocols = HttpProtocols.Http1);
});

var app = builder.Build();
var fake = new FakeOpenAI(models);
app.Run(fake.HandleAsync);
await app.StartAsync();
Console.WriteLine($"listening {app.Urls.First()}");
await app.WaitForShutdownAsync();
return 0;
