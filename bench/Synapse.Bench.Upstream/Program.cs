using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Synapse.Bench.Upstream;

// A fast fake OpenAI-compatible server for the benchmark (not the tests' fake: nothing is recorded or logged, and
// every answer is precomputed bytes). Usage: Synapse.Bench.Upstream [--port N] [--host 127.0.0.1] [--model ID]...
// Prints "listening http://host:port" on stdout once it accepts connections.
// Engine mode (FakeEngine: slots, a queue, prefill, a prefix cache, vLLM's /metrics) with any of: --engine-slots N,
// --token-delay-ms D, --prefill-ms P, --prefill-hit-ms H, --prefix-cache, --prefix-capacity K, --kv-tokens T.
var port = 0;
EngineOptions? engine = null;
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
            var at = i;
            if (EngineOptions.TryApply(engine ?? new EngineOptions(), args[i], () => ++at < args.Length ? args[at] : null, out var applied, out var problem))
            {
                engine = applied;
                i = at;
                break;
            }

            await Console.Error.WriteLineAsync(problem ?? $"unknown argument {args[i]}; usage: [--port N] [--host IP] [--model ID]... [--engine-slots N] [--token-delay-ms D] [--prefill-ms P] [--prefill-hit-ms H] [--prefix-cache] [--prefix-capacity K] [--kv-tokens T]");
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
app.Run(engine is null ? fake.HandleAsync : new FakeEngine(engine, models, fake).HandleAsync);
await app.StartAsync();
Console.WriteLine($"listening {app.Urls.First()}");
if (engine is not null)
{
    Console.WriteLine($"engine: {engine}");
}

await app.WaitForShutdownAsync();
return 0;
