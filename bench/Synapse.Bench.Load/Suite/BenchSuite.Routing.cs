using System.Globalization;
using System.Text;
using System.Text.Json;
using Synapse.Bench.Load.Load;

namespace Synapse.Bench.Load.Suite;

internal static partial class BenchSuite
{
    private sealed partial class Run
    {
        /// <summary>
        /// Issue 17: how requests are spread over instances. Fake engines (the bench upstream in engine mode: slots,
        /// a FIFO queue, vLLM's /metrics), each behind its own real agent, and one silo per balancing setting, all up
        /// at once; the callers alternate slices between the silos, so the engines serve one setting at a time.
        /// </summary>
        private async Task RoutingAsync()
        {
            await SlowInstanceAsync(RoutingScenario.SaturatingCallers);
            await SlowInstanceAsync(RoutingScenario.ModerateCallers);
            await PrefixAffinityAsync();
        }

        /// <summary>
        /// Two engines with the same slots, one three times slower per token, both reporting their queues: the
        /// engine-aware policy against power-of-two-choices on in-flight counts (affinity off for both, and the
        /// gateway's defaults, engine-aware with affinity, beside them). Every request has a prompt of its own.
        /// </summary>
        private async Task SlowInstanceAsync(int callers)
        {
            var scenario = RoutingScenario.SlowInstance(settings.Quick, callers);
            Phase($"routing, slow instance: {scenario.Description}");
            var engines = new[]
            {
                await StartEngineAsync("fast", RoutingScenario.SlowInstanceEngine(RoutingScenario.FastTokenMs)),
                await StartEngineAsync("slow", RoutingScenario.SlowInstanceEngine(RoutingScenario.SlowTokenMs)),
            };
            RoutingPath[] paths =
            [
                new(RoutingScenario.EngineAwarePath, new() { [PolicyKey] = "EngineAware", [AffinityKey] = "false" }),
                new(RoutingScenario.PowerOfTwoPath, new() { [PolicyKey] = "PowerOfTwoChoices", [AffinityKey] = "false" }),
                new(RoutingScenario.DefaultsPath, []),
            ];
            var body = UniquePrompts(scenario.Tokens);
            await MeasureRoutingAsync(scenario, engines, paths, agentCapacity: RoutingScenario.SlowInstanceAgentCapacity, path => body(path));
        }

        /// <summary>
        /// Four engines with a prefix cache (a cached prompt prefix prefills faster), conversations of several turns
        /// sharing their first 1 KiB: affinity (the gateway's defaults) against no affinity (power-of-two-choices
        /// with affinity off: blind to prefixes, so as good as random for the cache).
        /// </summary>
        private async Task PrefixAffinityAsync()
        {
            var scenario = RoutingScenario.Prefix(settings.Quick);
            Phase($"routing, prefix workload: {scenario.Description}");
            var engines = new List<RoutingEngine>();
            for (var i = 0; i < RoutingScenario.PrefixEngines; i++)
            {
                engines.Add(await StartEngineAsync($"cache-{i}", RoutingScenario.PrefixEngine()));
            }

            RoutingPath[] paths =
            [
                new(RoutingScenario.AffinityPath, []),
                new(RoutingScenario.RandomPath, new() { [PolicyKey] = "PowerOfTwoChoices", [AffinityKey] = "false" }),
            ];
            await MeasureRoutingAsync(scenario, [.. engines], paths, agentCapacity: RoutingScenario.PrefixAgentCapacity,
                path => (caller, slice, n) => ConversationTurn(path, caller, slice, n, scenario));
        }

        private const string PolicyKey = "Synapse__Balancing__Policy";
        private const string AffinityKey = "Synapse__Balancing__Affinity__Enabled";

        /// <summary>
        /// Starts a silo per path, an agent per engine on each, then measures the scenario's workload on the paths in
        /// alternating slices; every slice reads each engine's counts (requests, prefix hits and misses) around its
        /// measured window. Stops everything it started.
        /// </summary>
        private async Task MeasureRoutingAsync(RoutingScenario scenario, RoutingEngine[] engines, RoutingPath[] paths, int agentCapacity,
            Func<string, Func<int, int, int, byte[]>> bodies)
        {
            var started = new List<ChildProcess>();
            try
            {
                var targets = new List<(CallTarget Target, Dictionary<string, ChildProcess> Roles)>();
                foreach (var path in paths)
                {
                    var (silo, url) = await StartSiloAsync($"routing-{scenario.Id}-{path.Name}", $"bench-routing-{_clusters++}", primarySiloPort: null, transport: null,
                        configuration: path.Configuration);
                    started.Add(silo);
                    var roles = Roles(("gateway", silo));
                    foreach (var engine in engines)
                    {
                        var agentId = $"bench-{scenario.Id}-{path.Name}-{engine.Name}";
                        var agent = processes.Start($"routing-{scenario.Id}-{path.Name}-agent-{engine.Name}", "dotnet",
                        [
                            settings.AgentDll, "--upstream", engine.Url.ToString(), "--server-url", $"ws://127.0.0.1:{url.Port}/ws",
                            "--max-concurrency", $"{agentCapacity}", "--connections", "1", "--agent-id", agentId, "--name", agentId, "--log-level", "warning",
                        ], NoEnvironment);
                        started.Add(agent);
                        roles[$"agent-{engine.Name}"] = agent;
                    }

                    var watched = roles.Values.Concat(engines.Select(e => e.Process)).ToArray();
                    await WaitForAsync($"{engines.Length} instances of {Model} at {url}", async () => await ClientCountAsync(url) >= engines.Length, TimeSpan.FromSeconds(60), watched);
                    foreach (var engine in engines)
                    {
                        roles[$"engine-{engine.Name}"] = engine.Process;
                    }

                    targets.Add((new CallTarget(path.Name, url), roles));
                }

                var sessions = targets.Select(t => new LoadSession(new LoadSpec
                {
                    BaseUrl = t.Target.Url,
                    Stream = true,
                    Tokens = scenario.Tokens,
                    DelayMs = scenario.DelayMs,
                    Concurrency = scenario.Callers,
                    Warmup = scenario.FirstSettle,
                    Duration = scenario.Slice,
                    Body = bodies(t.Target.Path),
                })).ToArray();
                try
                {
                    var windows = paths.Select(_ => new List<WindowSample>()).ToArray();
                    var counts = paths.Select(_ => new EngineCounts[engines.Length]).ToArray();
                    for (var round = 0; round < scenario.Slices; round++)
                    {
                        for (var k = 0; k < paths.Length; k++)
                        {
                            var i = round % 2 == 0 ? k : paths.Length - 1 - k;
                            cancellationToken.ThrowIfCancellationRequested();
                            CheckAlive(targets[i].Roles);
                            var settle = round == 0 ? scenario.FirstSettle : scenario.Settle;
                            var window = WindowSample.CaptureAsync(targets[i].Roles, settle, scenario.Slice, cancellationToken);
                            var run = sessions[i].RunSliceAsync(settle, scenario.Slice, cancellationToken);
                            await Task.Delay(settle, cancellationToken);
                            var before = await EngineCountsAsync(engines);
                            var limit = scenario.Slice + sessions[i].Spec.RequestTimeout + TimeSpan.FromSeconds(15);
                            if (await Task.WhenAny(run, Task.Delay(limit, cancellationToken)) != run)
                            {
                                throw new TimeoutException($"{paths[i].Name} {scenario.Workload.Label}: the load generator did not finish a slice within {limit.TotalSeconds:0} s after its settling");
                            }

                            await run;
                            var after = await EngineCountsAsync(engines);
                            for (var e = 0; e < engines.Length; e++)
                            {
                                counts[i][e] = counts[i][e] + (after[e] - before[e]);
                            }

                            windows[i].Add(await window);
                        }
                    }

                    for (var i = 0; i < paths.Length; i++)
                    {
                        var measurement = new Measurement
                        {
                            Workload = scenario.Workload,
                            Path = paths[i].Name,
                            Result = sessions[i].Result(),
                            Window = WindowSample.Merge(windows[i]),
                            Set = _sets,
                        };
                        report.Measurements.Add(measurement);
                        var routing = new RoutingRun(scenario, measurement, [.. engines.Select(e => e.Name)], counts[i]);
                        report.Routing.Add(routing);
                        Console.WriteLine($"  {measurement.Path,-14} {Report.Describe(measurement.Result)}  [other {measurement.Window.ExternalPercent:0}%]");
                        Console.WriteLine($"  {string.Empty,-14} {routing.Describe()}");
                    }

                    _sets++;
                }
                finally
                {
                    foreach (var session in sessions)
                    {
                        session.Dispose();
                    }
                }
            }
            finally
            {
                foreach (var process in started.AsEnumerable().Reverse().Concat(engines.Select(e => e.Process)))
                {
                    await ProcessSet.StopAsync(process);
                }
            }
        }

        private async Task<RoutingEngine> StartEngineAsync(string name, string[] engineArgs)
        {
            var port = Ports.Free();
            var process = processes.Start($"routing-engine-{name}", "dotnet", [settings.UpstreamDll, "--port", $"{port}", "--model", Model, .. engineArgs], NoEnvironment);
            var url = new Uri($"http://127.0.0.1:{port}");
            await WaitForAsync($"the fake engine {name}", () => IsOkAsync(new Uri(url, "/metrics")), TimeSpan.FromSeconds(30), process);
            return new RoutingEngine(name, process, url);
        }

        private async Task<EngineCounts[]> EngineCountsAsync(RoutingEngine[] engines)
        {
            var counts = new EngineCounts[engines.Length];
            for (var i = 0; i < engines.Length; i++)
            {
                using var response = await _http.GetAsync(new Uri(engines[i].Url, "/bench/stats"), cancellationToken);
                response.EnsureSuccessStatusCode();
                using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                var root = document.RootElement;
                counts[i] = new EngineCounts(root.GetProperty("requests").GetInt64(), root.GetProperty("prefix_hits").GetInt64(), root.GetProperty("prefix_misses").GetInt64(),
                    root.GetProperty("admitted").GetInt64(), root.GetProperty("queue_wait_ms_total").GetDouble());
            }

            return counts;
        }

        /// <summary>A prompt of its own for every request (so that affinity, when on, keys every request apart).</summary>
        private static Func<string, Func<int, int, int, byte[]>> UniquePrompts(int tokens) => path => (caller, slice, n) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"Request {{path}}.{{slice}}.{{caller}}.{{n}}: say hello {{tokens}} times."}],"stream":true,"bench_tokens":{{tokens}}}"""));

        /// <summary>
        /// The <paramref name="n"/>th request of a caller in a slice: a turn of one of its conversations. Every slice
        /// starts new conversations (ids with the path and the slice), so that no path finds the prefixes another left
        /// in the engines; callers start at different turns of their first one, so that turns do not go in lockstep.
        /// A conversation's system prompt (about 900 bytes) and first user message are its own, so its first 1 KiB
        /// is too; later turns add an assistant answer and a user message each.
        /// </summary>
        private static byte[] ConversationTurn(string path, int caller, int slice, int n, RoutingScenario scenario)
        {
            var turns = scenario.Turns;
            var index = n + (caller % turns);
            var id = string.Create(CultureInfo.InvariantCulture, $"{path}.{slice}.{caller}.{index / turns}");
            var turn = index % turns;
            var system = new StringBuilder(1024).Append(CultureInfo.InvariantCulture, $"You are the assistant of conversation {id}.");
            for (var rule = 1; system.Length < 900; rule++)
            {
                system.Append(CultureInfo.InvariantCulture, $" Rule {rule} of {id}: answer briefly, in plain words, and say so when unsure.");
            }

            var json = new StringBuilder(4096).Append(CultureInfo.InvariantCulture, $$"""{"model":"{{Model}}","messages":[{"role":"system","content":"{{system}}"}""");
            json.Append(CultureInfo.InvariantCulture, $$""",{"role":"user","content":"[{{id}}] First question: how do the turns of a long conversation share the start of their prompt with each other?"}""");
            var answer = string.Concat(Enumerable.Repeat(" hello", scenario.Tokens));
            for (var t = 1; t <= turn; t++)
            {
                json.Append(CultureInfo.InvariantCulture, $$""",{"role":"assistant","content":"{{answer}}"},{"role":"user","content":"[{{id}}] Question {{t + 1}}: and then?"}""");
            }

            json.Append(CultureInfo.InvariantCulture, $$"""],"stream":true,"bench_tokens":{{scenario.Tokens}}}""");
            return Encoding.UTF8.GetBytes(json.ToString());
        }
    }
}

/// <summary>One gateway setting the routing phase measures: a silo of its own, started with these environment variables.</summary>
internal sealed record RoutingPath(string Name, Dictionary<string, string> Configuration);

/// <summary>A fake engine of the routing phase.</summary>
internal sealed record RoutingEngine(string Name, ChildProcess Process, Uri Url);

/// <summary>
/// What an engine counted (<c>GET /bench/stats</c>): requests received, prefix hits and misses, requests admitted to a
/// slot and the time they spent in its queue before; differences of two readings are what happened between them.
/// </summary>
internal readonly record struct EngineCounts(long Requests, long PrefixHits, long PrefixMisses, long Admitted, double QueueWaitMs)
{
    /// <summary>Mean time a request waited in the engine's queue for a slot.</summary>
    public double? MeanQueueWaitMs => Admitted > 0 ? QueueWaitMs / Admitted : null;

    public static EngineCounts operator +(EngineCounts a, EngineCounts b) =>
        new(a.Requests + b.Requests, a.PrefixHits + b.PrefixHits, a.PrefixMisses + b.PrefixMisses, a.Admitted + b.Admitted, a.QueueWaitMs + b.QueueWaitMs);

    public static EngineCounts operator -(EngineCounts a, EngineCounts b) =>
        new(a.Requests - b.Requests, a.PrefixHits - b.PrefixHits, a.PrefixMisses - b.PrefixMisses, a.Admitted - b.Admitted, a.QueueWaitMs - b.QueueWaitMs);
}
