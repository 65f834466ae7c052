using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Synapse.Bench.Load.Load;

namespace Synapse.Bench.Load.Suite;

/// <summary>
/// The whole benchmark, in phases that each start only the processes they need: one silo (measured in alternation
/// with the direct path); one silo with key groups (a key with limits against one without); a two-silo cluster
/// (direct, cross-silo and same-silo in alternation), once per relay transport asked for; idle silos' CPU; a silo
/// with a thousand agents. Every process it starts is killed when it ends.
/// </summary>
internal static partial class BenchSuite
{
    public const string Model = "bench-model";

    private static readonly string[] SiloAssemblies = ["Synapse.Silo.dll", "Synapse.Grains.dll", "Synapse.Grains.Interfaces.dll", "Synapse.Protocol.dll"];
    private static readonly string[] AgentAssemblies = ["synapse-client.dll", "Synapse.Protocol.dll"];

    public static async Task<int> RunAsync(SuiteSettings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var report = new BenchReport(settings, Machine.Describe());
        using var processes = new ProcessSet(settings);
        // Ctrl+C, SIGTERM, or an unhandled crash: never leave a silo behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => processes.KillAll();
        var exitCode = 0;
        try
        {
            Check(settings);
            using var run = new Run(settings, processes, report, cancellationToken);
            await run.AllAsync();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            report.Failure = "interrupted";
            exitCode = 130;
        }
        catch (Exception ex)
        {
            report.Failure = ex.Message;
            await Console.Error.WriteLineAsync($"\nbenchmark failed: {ex}");
            exitCode = 1;
        }
        finally
        {
            await processes.StopAllAsync();
        }

        report.TotalSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine(report.ToTable());
        Directory.CreateDirectory(Path.GetDirectoryName(settings.OutputPath)!);
        await File.WriteAllTextAsync(settings.OutputPath, report.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", CancellationToken.None);
        Console.WriteLine($"results: {settings.OutputPath}   (process logs: {settings.LogDirectory})");
        return exitCode;
    }

    private static void Check(SuiteSettings settings)
    {
        foreach (var file in new[] { settings.SiloDll, settings.AgentDll, settings.UpstreamDll, settings.AgentsDll })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"{file} is missing; build in {settings.Configuration} first (bash bench/run.sh does)");
            }
        }

        var silo = Path.GetDirectoryName(settings.SiloDll)!;
        var agent = Path.GetDirectoryName(settings.AgentDll)!;
        BuildCheck.RequireOptimized(
        [
            .. SiloAssemblies.Select(a => Path.Combine(silo, a)),
            .. AgentAssemblies.Select(a => Path.Combine(agent, a)),
            settings.UpstreamDll,
        ]);
    }

    /// <summary>One run's state: the upstream every phase shares, and the report being filled.</summary>
    private sealed partial class Run(SuiteSettings settings, ProcessSet processes, BenchReport report, CancellationToken cancellationToken) : IDisposable
    {
        private static readonly Dictionary<string, string> NoEnvironment = [];

        private static readonly Workload ChatOne = new("chat-x1", "chat, 1 caller", Stream: false, Tokens: 32, DelayMs: 0, Concurrency: 1);
        private static readonly Workload ChatMany = new("chat-x32", "chat, 32 callers", Stream: false, Tokens: 32, DelayMs: 0, Concurrency: 32);
        private static readonly Workload StreamOne = new("stream32-x1", "32-token stream, 1 caller", Stream: true, Tokens: 32, DelayMs: 0, Concurrency: 1);
        private static readonly Workload StreamMany = new("stream32-x32", "32-token stream, 32 callers", Stream: true, Tokens: 32, DelayMs: 0, Concurrency: 32);

        private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };

        private Workload CrossSilo => new($"stream32-5ms-x{settings.CrossSiloStreams}", $"32-token stream, 5 ms/token, {settings.CrossSiloStreams} callers",
            Stream: true, Tokens: 32, DelayMs: 5, Concurrency: settings.CrossSiloStreams);

        private Workload Capacity => new($"stream32-50ms-x{settings.CapacityStreams}", $"32-token stream, 50 ms/token, {settings.CapacityStreams} callers",
            Stream: true, Tokens: 32, DelayMs: 50, Concurrency: settings.CapacityStreams);

        private Workload[] Basic => [ChatOne, ChatMany, StreamOne, StreamMany];

        private Uri UpstreamUrl { get; set; } = null!;

        private ChildProcess Upstream { get; set; } = null!;

        public async Task AllAsync()
        {
            Console.WriteLine($"Synapse benchmark: {report.Machine.Summary}; {settings.Duration.TotalSeconds:0} s per path and workload");
            var port = Ports.Free();
            Upstream = processes.Start("upstream", "dotnet", [settings.UpstreamDll, "--port", $"{port}", "--model", Model], NoEnvironment);
            UpstreamUrl = new Uri($"http://127.0.0.1:{port}");
            await WaitForAsync("the fake upstream", () => IsOkAsync(new Uri(UpstreamUrl, "/v1/models")), TimeSpan.FromSeconds(30), Upstream);

            if (settings.Runs("one-silo"))
            {
                await OneSiloAsync();
            }

            if (settings.Runs("limits"))
            {
                await LimitsAsync();
            }

            if (settings.Runs("two-silos"))
            {
                foreach (var transport in settings.TransportRuns)
                {
                    await TwoSilosAsync(transport);
                }
            }

            if (settings.Runs("four-silos"))
            {
                await FourSilosAsync();
            }

            if (settings.Runs("idle"))
            {
                foreach (var transport in settings.TransportRuns)
                {
                    await IdleAsync(transport);
                    await IdleAgentsAsync(transport);
                }
            }

            if (settings.Runs("agents"))
            {
                await ManyAgentsAsync();
            }

            if (settings.Runs("routing"))
            {
                await RoutingAsync();
            }
        }

        private async Task OneSiloAsync()
        {
            Phase("one silo, one agent");
            var (silo, url) = await StartSiloAsync("one-silo", "bench-one", primarySiloPort: null, transport: null);
            var agent = StartAgent("one-silo-agent", settings.AgentDll, url, "bench-agent");
            await WaitForModelAsync(url, silo, agent);
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            report.Idle["gateway_rss_kb_idle_one_agent"] = silo.RssKb ?? 0;
            report.Idle["agent_jit_rss_kb_idle"] = agent.RssKb ?? 0;

            CallTarget[] paths = [new("direct", UpstreamUrl), new("one-silo", url)];
            await WarmUpAsync(paths);
            var roles = Roles(("gateway", silo), ("agent", agent), ("upstream", Upstream));
            foreach (var workload in Basic)
            {
                await MeasureAlternatingAsync(workload, paths, roles, settings.Slices, transport: null);
            }

            // Streams lasting 1.6 s do not cut into short slices: one window each, back to back.
            await MeasureAlternatingAsync(Capacity, paths, roles, slices: 1, transport: null);
            await ProcessSet.StopAsync(agent);
            await AgentIdleAsync(url, silo);
            await ProcessSet.StopAsync(silo);
        }

        /// <summary>The agent's resident memory once connected and idle: the Native AOT binary when it was published.</summary>
        private async Task AgentIdleAsync(Uri url, ChildProcess silo)
        {
            var aot = settings.AotAgent is { Length: > 0 } path && File.Exists(path);
            var program = aot ? settings.AotAgent! : settings.AgentDll;
            var agent = StartAgent("idle-agent", program, url, "bench-idle-agent");
            await WaitForModelAsync(url, silo, agent);
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            report.Idle[aot ? "agent_aot_rss_kb_idle" : "agent_fallback_dll_rss_kb_idle"] = agent.RssKb ?? 0;
            report.AgentIdleIsAot = aot;
            Console.WriteLine(aot
                ? $"  idle agent (Native AOT {program}): RSS {Kb(agent.RssKb)}"
                : $"  idle agent: no Native AOT binary (BENCH_AOT_AGENT unset or missing); dotnet synapse-client.dll RSS {Kb(agent.RssKb)}");
            await ProcessSet.StopAsync(agent);
        }

        private async Task TwoSilosAsync(string? transport)
        {
            Phase($"two silos: callers on silo A, the agent's only socket on silo B (cross-silo), callers on B (same-silo); relay {TransportName(transport)}");
            var cluster = $"bench-two-{_clusters++}";
            var (siloA, urlA) = await StartSiloAsync("silo-a", cluster, primarySiloPort: null, transport);
            var (siloB, urlB) = await StartSiloAsync("silo-b", cluster, primarySiloPort: _primarySiloPort, transport);
            var agent = StartAgent("silo-b-agent", settings.AgentDll, urlB, "bench-agent");
            await WaitForModelAsync(urlB, siloB, agent);
            await WaitForModelAsync(urlA, siloA, agent);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            CallTarget[] paths = [new("direct", UpstreamUrl), new("cross-silo", urlA), new("same-silo", urlB)];
            await WarmUpAsync(paths[1..]);
            var roles = Roles(("silo-a", siloA), ("silo-b", siloB), ("agent", agent), ("upstream", Upstream));
            foreach (var workload in Basic.Append(CrossSilo))
            {
                await MeasureAlternatingAsync(workload, paths, roles, settings.Slices, TransportName(transport));
            }

            await ProcessSet.StopAsync(agent);
            await ProcessSet.StopAsync(siloB);
            await ProcessSet.StopAsync(siloA);
        }

        /// <summary>
        /// CPU of silos that carry no traffic, with one agent connected: one silo, then a two-silo cluster with the
        /// agent's socket on B. Whatever an idle silo does on timers (its own, Orleans', the relay's) shows here.
        /// </summary>
        private async Task IdleAsync(string? transport)
        {
            Phase($"idle silos, one agent connected, no traffic ({settings.IdleWindow.TotalSeconds:0} s each); relay {TransportName(transport)}");
            var (silo, url) = await StartSiloAsync("idle-silo", $"bench-idle-{_clusters++}", primarySiloPort: null, transport);
            var agent = StartAgent("idle-silo-agent", settings.AgentDll, url, "bench-agent");
            await WaitForModelAsync(url, silo, agent);
            await MeasureIdleAsync(transport, "one silo", Roles(("silo", silo), ("agent", agent)));
            await ProcessSet.StopAsync(agent);
            await ProcessSet.StopAsync(silo);

            var cluster = $"bench-idle-{_clusters++}";
            var (siloA, urlA) = await StartSiloAsync("idle-silo-a", cluster, primarySiloPort: null, transport);
            var (siloB, urlB) = await StartSiloAsync("idle-silo-b", cluster, primarySiloPort: _primarySiloPort, transport);
            agent = StartAgent("idle-silo-b-agent", settings.AgentDll, urlB, "bench-agent");
            await WaitForModelAsync(urlB, siloB, agent);
            await WaitForModelAsync(urlA, siloA, agent);
            await MeasureIdleAsync(transport, "two silos", Roles(("silo-a", siloA), ("silo-b", siloB), ("agent", agent)));
            await ProcessSet.StopAsync(agent);
            await ProcessSet.StopAsync(siloB);
            await ProcessSet.StopAsync(siloA);
        }

        private async Task MeasureIdleAsync(string? transport, string cluster, IReadOnlyDictionary<string, ChildProcess> roles)
        {
            // Start-up work (JIT, tiered recompilation, the first membership rounds) goes on for a while after the start;
            // what is left after this is a silo's steady idle cost.
            await Task.Delay(settings.IdleSettle, cancellationToken);
            var before = roles.ToDictionary(r => r.Key, r => r.Value.CpuTicks ?? 0);
            var clock = Stopwatch.StartNew();
            await Task.Delay(settings.IdleWindow, cancellationToken);
            CheckAlive(roles);
            var seconds = clock.Elapsed.TotalSeconds;
            foreach (var (role, process) in roles)
            {
                var percent = ((process.CpuTicks ?? before[role]) - before[role]) / (double)ProcFs.ClockTicks / seconds * 100;
                report.IdleCpu.Add(new IdleCpuResult(TransportName(transport), cluster, role, percent, seconds));
                Console.WriteLine($"  {cluster}, {role,-7} {percent,5:0.0}% of a core");
            }
        }
        private async Task ManyAgentsAsync()
        {
            var count = settings.CapacityAgents;
            Phase($"{count} agents on one silo");
            var (silo, url) = await StartSiloAsync("agents-silo", "bench-agents", primarySiloPort: null, transport: null);
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            var before = silo.RssKb ?? 0;
            var started = Stopwatch.StartNew();
            var agents = processes.Start("agents", "dotnet",
                [settings.AgentsDll, "--count", $"{count}", "--upstream", UpstreamUrl.ToString(), "--server-url", $"ws://127.0.0.1:{url.Port}/ws", "--prefix", "bench-many"],
                NoEnvironment);
            var seen = 0;
            await WaitForAsync($"{count} agents to register", async () =>
            {
                seen = await ClientCountAsync(url);
                return seen >= count;
            }, TimeSpan.FromSeconds(120), silo, agents);
            var registration = started.Elapsed.TotalSeconds;
            Console.WriteLine($"  {count} agents registered in {registration:0.00} s");

            // Let the connection storm's garbage settle, then measure the silo idle with every agent connected.
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            var cpuBefore = silo.CpuTicks ?? 0;
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
            var cpuPercent = ((silo.CpuTicks ?? cpuBefore) - cpuBefore) / (double)ProcFs.ClockTicks / window.Elapsed.TotalSeconds * 100;
            var after = silo.RssKb ?? 0;
            report.ManyAgents = new ManyAgentsResult(count, registration, before, after, cpuPercent, agents.RssKb ?? 0, await ClientCountAsync(url));
            Console.WriteLine($"  silo RSS {Kb(before)} -> {Kb(after)}: {(after - before) / (double)count:0.0} KiB per agent; silo CPU {cpuPercent:0.0}% of a core idle with {count} agents");
            await ProcessSet.StopAsync(agents);
            await ProcessSet.StopAsync(silo);
        }

        private static readonly TimeSpan SliceSettle = TimeSpan.FromMilliseconds(500);
        private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);
        private int _primarySiloPort;
        private int _clusters;
        private int _sets;

        /// <summary>
        /// Starts a silo and waits for it to be ready; <paramref name="configFile"/> is a key-groups file (<c>--config</c>),
        /// <paramref name="configuration"/> more settings as environment variables (<c>Synapse__Balancing__Policy</c>...).
        /// </summary>
        private async Task<(ChildProcess Silo, Uri Url)> StartSiloAsync(string name, string clusterId, int? primarySiloPort, string? transport, string? configFile = null,
            IReadOnlyDictionary<string, string>? configuration = null)
        {
            int http = Ports.Free(), silo = Ports.Free(), gateway = Ports.Free();
            if (primarySiloPort is null)
            {
                _primarySiloPort = silo;
            }

            string[] args =
            [
                settings.SiloDll, "--host", "127.0.0.1", "--port", $"{http}", "--silo-port", $"{silo}", "--gateway-port", $"{gateway}",
                "--cluster-id", clusterId, .. primarySiloPort is { } primary ? new[] { "--primary-silo", $"127.0.0.1:{primary}" } : [],
                .. configFile is not null ? new[] { "--config", configFile } : [],
            ];
            var environment = new Dictionary<string, string>
            {
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Warning",
            };
            if (transport is not null)
            {
                environment["Synapse__Relay__Transport"] = transport;
            }

            foreach (var (key, value) in configuration ?? NoEnvironment)
            {
                environment[key] = value;
            }

            var process = processes.Start(name, "dotnet", args, environment);
            var url = new Uri($"http://127.0.0.1:{http}");
            var clock = Stopwatch.StartNew();
            await WaitForAsync($"{name} to be ready", () => IsOkAsync(new Uri(url, "/readyz")), TimeSpan.FromSeconds(60), process);
            Console.WriteLine($"  {name} ready in {clock.Elapsed.TotalSeconds:0.0} s (pid {process.Pid}, {url})");
            return (process, url);
        }

        /// <summary>Starts an agent serving the fake upstream; <paramref name="wsKey"/> for a gateway that wants one (key groups).</summary>
        private ChildProcess StartAgent(string name, string program, Uri gateway, string agentId, string? wsKey = null)
        {
            var dll = program.EndsWith(".dll", StringComparison.Ordinal);
            string[] args =
            [
                .. dll ? new[] { program } : [],
                "--upstream", UpstreamUrl.ToString(), "--server-url", $"ws://127.0.0.1:{gateway.Port}/ws",
                "--max-concurrency", "2000", "--connections", "1", "--agent-id", agentId, "--name", agentId, "--log-level", "warning",
                .. wsKey is not null ? new[] { "--ws-auth-key", wsKey } : [],
            ];
            return processes.Start(name, dll ? "dotnet" : program, args, NoEnvironment);
        }

        private Task WaitForModelAsync(Uri gateway, params ChildProcess[] watched) =>
            WaitForModelAsync(new CallTarget("gateway", gateway), watched);

        /// <summary>Until the model is listed to the target's callers (with key groups, only a key's group's models are).</summary>
        private Task WaitForModelAsync(CallTarget target, params ChildProcess[] watched) =>
            WaitForAsync($"{Model} to be served at {target.Url}", () => IsOkAsync(new Uri(target.Url, $"/v1/models/{Model}"), target.ApiKey), TimeSpan.FromSeconds(60), watched);

        /// <summary>
        /// Fresh processes run their code unoptimized at first and recompile the hot parts (tiered compilation with
        /// dynamic PGO) over several seconds of load: that JIT work must be over before anything is measured.
        /// </summary>
        private async Task WarmUpAsync(params CallTarget[] targets)
        {
            var clock = Stopwatch.StartNew();
            foreach (var target in targets)
            {
                foreach (var workload in new[] { ChatMany, StreamMany })
                {
                    var spec = workload.ToSpec(target, settings) with { Warmup = TimeSpan.Zero, Duration = WarmUp };
                    await LoadGenerator.RunAsync(spec, cancellationToken);
                }
            }

            Console.WriteLine($"  warmed up (JIT) in {clock.Elapsed.TotalSeconds:0} s");
        }

        /// <summary>
        /// Measures one workload on several paths in alternating slices (A B, B A, A B...), so that whatever else
        /// the shared machine is doing weighs on every path alike; each path's slices add up to one measurement.
        /// The first slice of each path warms it up; later ones settle for half a second before counting.
        /// <paramref name="pathRoles"/>: the processes sampled in each path's slices, when they differ by path.
        /// </summary>
        private async Task MeasureAlternatingAsync(Workload workload, CallTarget[] paths, IReadOnlyDictionary<string, ChildProcess> roles, int slices, string? transport,
            IReadOnlyDictionary<string, ChildProcess>[]? pathRoles = null)
        {
            var sessions = paths.Select(p => new LoadSession(workload.ToSpec(p, settings))).ToArray();
            try
            {
                var windows = paths.Select(_ => new List<WindowSample>()).ToArray();
                var slice = settings.Duration / slices;
                for (var round = 0; round < slices; round++)
                {
                    for (var k = 0; k < paths.Length; k++)
                    {
                        var i = round % 2 == 0 ? k : paths.Length - 1 - k;
                        cancellationToken.ThrowIfCancellationRequested();
                        CheckAlive(pathRoles?[i] ?? roles);
                        var settle = round == 0 ? sessions[i].Spec.Warmup : SliceSettle;
                        var window = WindowSample.CaptureAsync(pathRoles?[i] ?? roles, settle, slice, cancellationToken);
                        var run = sessions[i].RunSliceAsync(settle, slice, cancellationToken);
                        // Every request has a 60 s timeout, so a slice that is still running well after that is a bug.
                        var limit = settle + slice + sessions[i].Spec.RequestTimeout + TimeSpan.FromSeconds(15);
                        if (await Task.WhenAny(run, Task.Delay(limit, cancellationToken)) != run)
                        {
                            throw new TimeoutException($"{paths[i].Path} {workload.Label}: the load generator did not finish a slice within {limit.TotalSeconds:0} s");
                        }

                        await run;
                        windows[i].Add(await window);
                    }
                }

                Measurement? baseline = null;
                for (var i = 0; i < paths.Length; i++)
                {
                    var measurement = new Measurement
                    {
                        Workload = workload,
                        Path = paths[i].Path,
                        Result = sessions[i].Result(),
                        Window = WindowSample.Merge(windows[i]),
                        Baseline = baseline,
                        Set = _sets,
                        Transport = paths[i].Path == "direct" ? null : transport,
                    };
                    baseline ??= measurement.Path == "direct" ? measurement : null;
                    report.Measurements.Add(measurement);
                    Console.WriteLine($"  {measurement.Path,-10} {Report.Describe(measurement.Result)}  [machine busy {measurement.Window.MachineBusyPercent:0}%, other {measurement.Window.ExternalPercent:0}%]");
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

        private static void CheckAlive(IReadOnlyDictionary<string, ChildProcess> roles)
        {
            foreach (var (role, process) in roles)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"{role} ({process.Name}) exited; its log ends:\n{process.Tail()}");
                }
            }
        }

        private async Task<int> ClientCountAsync(Uri gateway)
        {
            try
            {
                using var response = await _http.GetAsync(new Uri(gateway, "/v1/models"), cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return 0;
                }

                using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                foreach (var model in document.RootElement.GetProperty("data").EnumerateArray())
                {
                    if (model.GetProperty("id").GetString() == Model && model.TryGetProperty("client_count", out var count))
                    {
                        return count.GetInt32();
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }

            return 0;
        }

        private async Task<bool> IsOkAsync(Uri url, string? apiKey = null)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (apiKey is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
                }

                using var response = await _http.SendAsync(request, cancellationToken);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        private async Task WaitForAsync(string what, Func<Task<bool>> condition, TimeSpan timeout, params ChildProcess[] watched)
        {
            var clock = Stopwatch.StartNew();
            while (!await condition())
            {
                foreach (var process in watched)
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException($"{process.Name} exited while waiting for {what}; its log ends:\n{process.Tail()}");
                    }
                }

                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"gave up waiting for {what} after {timeout.TotalSeconds:0} s; logs: " +
                        string.Join("\n", watched.Select(p => $"--- {p.Name}\n{p.Tail()}")));
                }

                await Task.Delay(100, cancellationToken);
            }
        }

        public void Dispose() => _http.Dispose();

        private static Dictionary<string, ChildProcess> Roles(params (string Role, ChildProcess Process)[] roles) =>
            roles.ToDictionary(r => r.Role, r => r.Process, StringComparer.Ordinal);

        private static void Phase(string title) => Console.WriteLine($"\n== {title}");

        private static string TransportName(string? transport) => transport ?? "default";
    }

    internal static string Kb(long? kb) => kb is { } value ? $"{value / 1024.0:0.0} MiB" : "?";
}
