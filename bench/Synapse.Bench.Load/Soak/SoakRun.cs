using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Synapse.Bench.Load.Suite;

namespace Synapse.Bench.Load.Soak;

/// <summary>
/// The soak (issue 16; <c>bench/soak.sh</c>, not in CI): two silos behind the round-robin balancer, agents reaching
/// them through it with two sockets each, and mixed streaming and non-streaming callers through it too, for
/// <see cref="SoakSettings.Minutes"/> minutes, with churn: an agent process restarted every minute (SIGTERM and
/// SIGKILL in turn, a process of 20 agents among them), callers walking away mid-call, and silo B restarted midway
/// (SIGTERM, then started again on the same ports). Every silo's RSS, GC heap, threads and open handles are sampled
/// every 10 s into bench/results/soak.csv; bench/results/soak.md says how much each grew from minute 5 (a quarter of
/// the run) to the end on silo A, the silo that ran the whole time, and how many calls hung.
/// </summary>
internal sealed class SoakRun : IDisposable
{
    private const string Model = "bench-model";
    private const int Agents = 3;
    private const int FleetAgents = 20;

    /// <summary>The load: a few fast callers that keep the gateway busy, and many paced streams that stay open.</summary>
    private static readonly SoakCallerKind[] Mix =
    [
        new("chat", Stream: false, Tokens: 32, DelayMs: 0, Callers: 4, Think: TimeSpan.FromMilliseconds(10), WalkAway: 0.05),
        new("stream", Stream: true, Tokens: 32, DelayMs: 0, Callers: 4, Think: TimeSpan.FromMilliseconds(10), WalkAway: 0.10),
        new("paced stream", Stream: true, Tokens: 64, DelayMs: 20, Callers: 24, Think: TimeSpan.Zero, WalkAway: 0.10),
    ];

    private static readonly Dictionary<string, string> NoEnvironment = [];
    private static readonly string[] SiloAssemblies = ["Synapse.Silo.dll", "Synapse.Grains.dll", "Synapse.Grains.Interfaces.dll", "Synapse.Protocol.dll"];

    private readonly SoakSettings _settings;
    private readonly SuiteSettings _suite;
    private readonly ProcessSet _processes;
    private readonly CancellationToken _cancellationToken;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
    {
        Timeout = TimeSpan.FromSeconds(5),
    };

    private readonly List<(double At, string What, bool Setup)> _events = [];
    private readonly List<SoakSample> _samples = [];
    private readonly Dictionary<string, SiloSlot> _silos = new(StringComparer.Ordinal);
    private readonly ChildProcess?[] _agents = new ChildProcess?[Agents + 1];
    private readonly int[] _generations = new int[Agents + 1];
    private readonly Stopwatch _clock = new();
    private Uri _upstream = null!;
    private Uri _balancer = null!;

    private SoakRun(SoakSettings settings, ProcessSet processes, CancellationToken cancellationToken)
    {
        _settings = settings;
        _suite = settings.Suite;
        _processes = processes;
        _cancellationToken = cancellationToken;
    }

    public static async Task<int> RunAsync(SoakSettings settings, CancellationToken cancellationToken)
    {
        using var processes = new ProcessSet(settings.Suite);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => processes.KillAll();
        using var soak = new SoakRun(settings, processes, cancellationToken);
        try
        {
            return await soak.AllAsync();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("soak interrupted");
            return 130;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"\nsoak failed: {ex}");
            return 1;
        }
        finally
        {
            await processes.StopAllAsync();
        }
    }

    private async Task<int> AllAsync()
    {
        Check();
        var machine = Machine.Describe();
        Console.WriteLine($"Synapse soak: {_settings.Minutes:0.#} minutes on {machine.Summary}");
        Console.WriteLine($"  samples every {_settings.SampleInterval.TotalSeconds:0} s; an agent process restarted every {_settings.ChurnEvery.TotalSeconds:0} s; silo B restarted at {Clock(_settings.RestartAt)}; " +
            $"growth from {Clock(_settings.BaselineAt)} to the end (each the mean over {_settings.AverageOver.TotalSeconds:0} s of samples)");

        var port = Ports.Free();
        var upstream = _processes.Start("soak-upstream", "dotnet", [_suite.UpstreamDll, "--port", $"{port}", "--model", Model], NoEnvironment);
        _upstream = new Uri($"http://127.0.0.1:{port}");
        await WaitForAsync("the fake upstream", () => IsOkAsync(new Uri(_upstream, "/v1/models")), TimeSpan.FromSeconds(30), upstream);

        var a = new SiloSlot("silo-a", Ports.Free(), Ports.Free(), Ports.Free(), Primary: null);
        var b = new SiloSlot("silo-b", Ports.Free(), Ports.Free(), Ports.Free(), Primary: a.SiloPort);
        _silos[a.Name] = a;
        _silos[b.Name] = b;
        await StartSiloAsync(a);
        await StartSiloAsync(b);

        var balancerPort = Ports.Free();
        var balancer = _processes.Start("soak-balancer", "dotnet",
            [BalancerDll, "balance", "--port", $"{balancerPort}", "--backends", $"127.0.0.1:{a.HttpPort},127.0.0.1:{b.HttpPort}"], NoEnvironment);
        _balancer = new Uri($"http://127.0.0.1:{balancerPort}");
        await WaitForAsync("the balancer", () => IsOkAsync(new Uri(_balancer, "/readyz")), TimeSpan.FromSeconds(30), balancer);

        for (var i = 0; i <= Agents; i++)
        {
            StartAgent(i);
        }

        await WaitForAsync($"{Agents + FleetAgents} agents on both silos", async () =>
            await ClientCountAsync(a) >= Agents + FleetAgents && await ClientCountAsync(b) >= Agents + FleetAgents, TimeSpan.FromSeconds(90), [.. Live()]);
        Console.WriteLine($"  {Agents} agents (2 sockets each) and {FleetAgents} more in one process serve {Model} through the balancer on both silos");

        await using var csv = new StreamWriter(_settings.CsvPath, append: false) { AutoFlush = true };
        await csv.WriteLineAsync(SoakSample.CsvHeader);
        using var callers = new SoakCallers(_balancer, _settings.HungAfter);
        using var stopCalling = new CancellationTokenSource();
        _clock.Start();
        Note("load started: " + string.Join("; ", Mix.Select(k => $"{k.Callers} {k.Name} callers")));
        var load = callers.RunAsync(Mix, stopCalling.Token);

        var nextSample = TimeSpan.Zero;
        var nextChurn = _settings.ChurnEvery;
        var restarted = false;
        var churns = 0;
        while (_clock.Elapsed < _settings.Duration)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (_clock.Elapsed >= nextSample)
            {
                await SampleAsync(callers, csv);
                if ((int)(nextSample.TotalSeconds / _settings.SampleInterval.TotalSeconds) % 6 == 0)
                {
                    Progress(callers);
                }

                nextSample += _settings.SampleInterval;
            }

            if (!restarted && _clock.Elapsed >= _settings.RestartAt)
            {
                restarted = true;
                await RestartSiloAsync(b);
            }
            else if (_clock.Elapsed >= nextChurn)
            {
                await ChurnAsync(churns++);
                // From now: a restart that took long (or the silo's) does not bunch the next ones up.
                nextChurn = _clock.Elapsed + _settings.ChurnEvery;
            }

            CheckAlive(upstream, balancer, a.Process!);
            await Task.Delay(TimeSpan.FromMilliseconds(200), _cancellationToken);
        }

        await SampleAsync(callers, csv);
        Note("load stopped; waiting for the calls in flight");
        await stopCalling.CancelAsync();
        var longest = Mix.Max(k => k.Expected) + _settings.HungAfter + TimeSpan.FromSeconds(30);
        if (await Task.WhenAny(load, Task.Delay(longest, _cancellationToken)) != load)
        {
            Note($"{callers.InFlight} calls still running {longest.TotalSeconds:0} s after the load stopped: counted as hung");
        }

        var hungAtEnd = load.IsCompleted ? 0 : callers.InFlight;
        Progress(callers);
        var summary = SoakSummary.Write(_settings, machine, Mix, _samples, _events, callers, hungAtEnd, _clock.Elapsed, b.RestartedAt);
        await File.WriteAllTextAsync(_settings.SummaryPath, summary.Markdown, CancellationToken.None);
        Console.WriteLine();
        Console.WriteLine(summary.Markdown);
        Console.WriteLine($"curve: {_settings.CsvPath}   summary: {_settings.SummaryPath}   (process logs: {_suite.LogDirectory})");
        return summary.Met ? 0 : 1;
    }

    private void Check()
    {
        foreach (var file in new[] { _suite.SiloDll, _suite.AgentDll, _suite.UpstreamDll, _suite.AgentsDll, BalancerDll })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"{file} is missing; build in Release first (bash bench/soak.sh does)");
            }
        }

        var silo = Path.GetDirectoryName(_suite.SiloDll)!;
        BuildCheck.RequireOptimized(SiloAssemblies.Select(f => Path.Combine(silo, f)));
    }

    private static string BalancerDll => Path.Combine(AppContext.BaseDirectory, "Synapse.Bench.Load.dll");

    private async Task StartSiloAsync(SiloSlot slot)
    {
        slot.Generation++;
        string[] args =
        [
            _suite.SiloDll, "--host", "127.0.0.1", "--port", $"{slot.HttpPort}", "--silo-port", $"{slot.SiloPort}", "--gateway-port", $"{slot.GatewayPort}",
            "--cluster-id", "bench-soak", .. slot.Primary is { } primary ? new[] { "--primary-silo", $"127.0.0.1:{primary}" } : [],
        ];
        var environment = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Warning",
        };
        var clock = Stopwatch.StartNew();
        slot.Process = _processes.Start($"soak-{slot.Name}.{slot.Generation}", "dotnet", args, environment);
        await WaitForAsync($"{slot.Name} to be ready", () => IsOkAsync(new Uri(slot.Url, "/readyz")), TimeSpan.FromSeconds(90), slot.Process);
        Note($"{slot.Name} ready in {clock.Elapsed.TotalSeconds:0.0} s (pid {slot.Process.Pid}, {slot.Url})");
    }

    /// <summary>Agent i: 0 to Agents-1 a synapse-client with two sockets; Agents the process of 20 agents with one socket each.</summary>
    private void StartAgent(int i)
    {
        var generation = ++_generations[i];
        var server = $"ws://127.0.0.1:{_balancer.Port}/ws";
        _agents[i] = i < Agents
            ? _processes.Start($"soak-agent-{i + 1}.{generation}", "dotnet",
                [_suite.AgentDll, "--upstream", _upstream.ToString(), "--server-url", server, "--max-concurrency", "2000", "--connections", "2",
                    "--agent-id", $"soak-agent-{i + 1}", "--name", $"soak-agent-{i + 1}", "--log-level", "warning"], NoEnvironment)
            : _processes.Start($"soak-fleet.{generation}", "dotnet",
                [_suite.AgentsDll, "--count", $"{FleetAgents}", "--upstream", _upstream.ToString(), "--server-url", server, "--prefix", "soak-fleet"], NoEnvironment);
    }

    /// <summary>Restarts the next agent process in turn: a graceful stop (SIGTERM, the agent drains) and a kill alternately.</summary>
    private async Task ChurnAsync(int round)
    {
        var i = round % (Agents + 1);
        var agent = _agents[i]!;
        var graceful = round % 2 == 0;
        var clock = Stopwatch.StartNew();
        if (graceful)
        {
            await TerminateAsync(agent, TimeSpan.FromSeconds(40));
        }
        else
        {
            await agent.StopAsync();
        }

        StartAgent(i);
        Note($"{agent.Name} {(graceful ? "stopped with SIGTERM" : "killed")} ({clock.Elapsed.TotalSeconds:0.0} s) and started again as {_agents[i]!.Name}");
    }

    /// <summary>Silo B: SIGTERM (it drains and leaves the cluster), then started again on the same ports.</summary>
    private async Task RestartSiloAsync(SiloSlot slot)
    {
        var clock = Stopwatch.StartNew();
        var old = slot.Process!;
        Note($"{slot.Name} (pid {old.Pid}) sent SIGTERM");
        var exited = await TerminateAsync(old, TimeSpan.FromSeconds(90));
        Note($"{slot.Name} {(exited ? "exited" : "did not exit within 90 s and was killed")} after {clock.Elapsed.TotalSeconds:0.0} s");
        slot.RestartedAt = _clock.Elapsed;
        await StartSiloAsync(slot);
    }

    /// <summary>SIGTERM and a bounded wait; SIGKILL after it. True when it exited on its own.</summary>
    private async Task<bool> TerminateAsync(ChildProcess process, TimeSpan wait)
    {
        using (var kill = Process.Start("kill", ["-TERM", $"{process.Pid}"]))
        {
            await kill.WaitForExitAsync(_cancellationToken);
        }

        var clock = Stopwatch.StartNew();
        while (!process.HasExited && clock.Elapsed < wait)
        {
            await Task.Delay(100, _cancellationToken);
        }

        var exited = process.HasExited;
        await process.StopAsync();
        return exited;
    }

    private async Task SampleAsync(SoakCallers callers, StreamWriter csv)
    {
        var elapsed = _clock.Elapsed.TotalSeconds;
        foreach (var slot in _silos.Values)
        {
            if (slot.Process is not { HasExited: false } process)
            {
                continue;
            }

            var (rss, threads) = SoakSample.ReadStatus(process.Pid);
            var handles = SoakSample.ReadHandles(process.Pid);
            (long? Heap, long? Committed) gc = (null, null);
            try
            {
                gc = SoakSample.ParseGcMetrics(await _http.GetStringAsync(new Uri(slot.Url, "/metrics"), _cancellationToken));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !_cancellationToken.IsCancellationRequested)
            {
            }

            var sample = new SoakSample(elapsed, slot.Name, process.Pid, rss, gc.Heap, gc.Committed, threads, handles,
                callers.InFlight, callers.Ok, callers.Failed, callers.WalkedAway, callers.Hung);
            _samples.Add(sample);
            await csv.WriteLineAsync(sample.ToCsv());
        }
    }

    private void Progress(SoakCallers callers)
    {
        var line = $"  [{Clock(_clock.Elapsed)}] ok {callers.Ok}, errors {callers.Failed}, walked away {callers.WalkedAway}, hung {callers.Hung}, in flight {callers.InFlight} (oldest {callers.OldestInFlightSeconds:0.0} s)";
        foreach (var silo in _silos.Keys)
        {
            if (_samples.LastOrDefault(s => s.Silo == silo) is { } s)
            {
                line += $"; {silo} RSS {BenchSuite.Kb(s.RssKb)}, GC heap {(s.GcHeapBytes is { } h ? $"{h / 1048576.0:0.0} MiB" : "?")}, {s.Threads} threads, {s.Handles} fds";
            }
        }

        Console.WriteLine(line);
    }

    private void Note(string what)
    {
        var at = _clock.Elapsed.TotalSeconds;
        _events.Add((at, what, !_clock.IsRunning));
        Console.WriteLine($"  [{(_clock.IsRunning ? Clock(_clock.Elapsed) : "setup")}] {what}");
    }

    private IEnumerable<ChildProcess> Live() => _agents.OfType<ChildProcess>().Concat(_silos.Values.Select(s => s.Process).OfType<ChildProcess>());

    private static void CheckAlive(params ChildProcess[] processes)
    {
        foreach (var process in processes)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Name} exited; its log ends:\n{process.Tail()}");
            }
        }
    }

    private async Task<int> ClientCountAsync(SiloSlot silo)
    {
        try
        {
            using var document = JsonDocument.Parse(await _http.GetStringAsync(new Uri(silo.Url, "/v1/models"), _cancellationToken));
            foreach (var model in document.RootElement.GetProperty("data").EnumerateArray())
            {
                if (model.GetProperty("id").GetString() == Model && model.TryGetProperty("client_count", out var count))
                {
                    return count.GetInt32();
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or TaskCanceledException && !_cancellationToken.IsCancellationRequested)
        {
        }

        return 0;
    }

    private async Task<bool> IsOkAsync(Uri url)
    {
        try
        {
            using var response = await _http.GetAsync(url, _cancellationToken);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !_cancellationToken.IsCancellationRequested)
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
                throw new TimeoutException($"gave up waiting for {what} after {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(200, _cancellationToken);
        }
    }

    internal static string Clock(TimeSpan at) => string.Create(CultureInfo.InvariantCulture, $"{(int)at.TotalMinutes:00}:{at.Seconds:00}");

    public void Dispose() => _http.Dispose();

    /// <summary>A silo's fixed ports (kept across its restart) and its current process.</summary>
    private sealed record SiloSlot(string Name, int HttpPort, int SiloPort, int GatewayPort, int? Primary)
    {
        public Uri Url => new($"http://127.0.0.1:{HttpPort}");

        public ChildProcess? Process { get; set; }

        public int Generation { get; set; }

        public TimeSpan? RestartedAt { get; set; }
    }
}
