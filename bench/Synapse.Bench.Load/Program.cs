using System.Globalization;
using System.Net;
using Synapse.Bench.Load.Balancer;
using Synapse.Bench.Load.Load;
using Synapse.Bench.Load.Soak;
using Synapse.Bench.Load.Suite;

// Four commands:
//   suite  [--root DIR] [--duration S] [--warmup S] [--out FILE] [--quick] [--phases a,b] [--relay-transports x,y]
//          the whole benchmark (bench/run.sh runs this)
//   load   --url URL [--stream] [--tokens N] [--delay-ms D] [--concurrency C] [--duration S] [--warmup S] [--model M] [--api-key K]
//          one measurement against any OpenAI-compatible server
//   soak   [--root DIR] [--minutes N]
//          the soak: two silos, mixed load with churn, memory sampled (bench/soak.sh runs this)
//   balance --port P --backends HOST:PORT,HOST:PORT...
//          a round-robin TCP balancer (the four-silos phase and the soak start it)
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: Synapse.Bench.Load suite [--root DIR] [--duration S] [--warmup S] [--out FILE] [--quick] [--phases one-silo,limits,two-silos,four-silos,idle,agents,routing] [--relay-transports BroadcastChannel,MemoryStreams]");
    Console.WriteLine("       Synapse.Bench.Load load --url URL [--stream] [--tokens N] [--delay-ms D] [--concurrency C] [--duration S] [--warmup S] [--model M] [--api-key K]");
    Console.WriteLine("       Synapse.Bench.Load soak [--root DIR] [--minutes N]");
    Console.WriteLine("       Synapse.Bench.Load balance --port P --backends HOST:PORT,HOST:PORT...");
    return args.Length == 0 ? 2 : 0;
}

var options = new Dictionary<string, string>(StringComparer.Ordinal);
var flags = new HashSet<string>(StringComparer.Ordinal);
for (var i = 1; i < args.Length; i++)
{
    if (args[i] is "--stream" or "--quick")
    {
        flags.Add(args[i]);
    }
    else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
    {
        options[args[i]] = args[++i];
    }
    else
    {
        await Console.Error.WriteLineAsync($"unexpected argument '{args[i]}'");
        return 2;
    }
}

double Number(string name, double fallback) =>
    options.TryGetValue(name, out var text) ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

switch (args[0])
{
    case "load":
    {
        if (!options.TryGetValue("--url", out var url))
        {
            await Console.Error.WriteLineAsync("load needs --url");
            return 2;
        }

        var spec = new LoadSpec
        {
            BaseUrl = new Uri(url),
            Model = options.GetValueOrDefault("--model", "bench-model"),
            Stream = flags.Contains("--stream"),
            Tokens = (int)Number("--tokens", 32),
            DelayMs = (int)Number("--delay-ms", 0),
            Concurrency = (int)Number("--concurrency", 1),
            Duration = TimeSpan.FromSeconds(Number("--duration", 10)),
            Warmup = TimeSpan.FromSeconds(Number("--warmup", 2)),
            ApiKey = options.GetValueOrDefault("--api-key"),
        };
        var result = await LoadGenerator.RunAsync(spec, stop.Token);
        Console.WriteLine(Report.Describe(result));
        return result.Errors == 0 ? 0 : 1;
    }

    case "suite":
    {
        var settings = new SuiteSettings
        {
            Root = options.GetValueOrDefault("--root") ?? SuiteSettings.FindRoot(),
            Duration = TimeSpan.FromSeconds(Number("--duration", flags.Contains("--quick") ? 3 : 10)),
            Warmup = TimeSpan.FromSeconds(Number("--warmup", flags.Contains("--quick") ? 1 : 2)),
            Output = options.GetValueOrDefault("--out"),
            Quick = flags.Contains("--quick"),
            Phases = options.TryGetValue("--phases", out var phases)
                ? phases.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal)
                : new HashSet<string>(StringComparer.Ordinal),
            RelayTransports = options.TryGetValue("--relay-transports", out var transports)
                ? transports.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [],
        };
        return await BenchSuite.RunAsync(settings, stop.Token);
    }

    case "soak":
    {
        var settings = new SoakSettings
        {
            Root = options.GetValueOrDefault("--root") ?? SuiteSettings.FindRoot(),
            Minutes = Number("--minutes", 20),
        };
        return await SoakRun.RunAsync(settings, stop.Token);
    }

    case "balance":
    {
        if (!options.TryGetValue("--backends", out var list))
        {
            await Console.Error.WriteLineAsync("balance needs --backends HOST:PORT,HOST:PORT...");
            return 2;
        }

        IPEndPoint[] backends = [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(IPEndPoint.Parse)];
        using var balancer = new TcpBalancer(new IPEndPoint(IPAddress.Loopback, (int)Number("--port", 0)), backends);
        balancer.Start();
        Console.WriteLine($"listening 127.0.0.1:{balancer.Port}, round robin over {string.Join(", ", backends.Select(b => b.ToString()))}");
        await balancer.RunAsync(stop.Token);
        Console.WriteLine($"accepted {balancer.Accepted} connections, {balancer.Refused} refused (no backend answered)");
        return 0;
    }

    default:
        await Console.Error.WriteLineAsync($"unknown command '{args[0]}'");
        return 2;
}
