namespace Synapse.Bench.Load.Suite;

/// <summary>How the whole benchmark runs; <c>bench/run.sh</c> fills these in.</summary>
internal sealed record SuiteSettings
{
    /// <summary>The repository root (the folder holding Synapse.sln).</summary>
    public required string Root { get; init; }

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Where the JSON results go; default bench/results/latest.json.</summary>
    public string? Output { get; init; }

    /// <summary>Short durations and a tenth of the capacity figures: for working on the benchmark itself.</summary>
    public bool Quick { get; init; }

    public string Configuration { get; init; } = "Release";

    /// <summary>Slices each measurement is cut into, alternating between the paths measured together.</summary>
    public int Slices => Quick ? 3 : 5;

    /// <summary>
    /// The relay transports (Synapse:Relay:Transport) the two-silos and idle phases run with, one after another in this
    /// order; empty: once, with the gateway's default.
    /// </summary>
    public IReadOnlyList<string> RelayTransports { get; init; } = [];

    /// <summary>Each transport to run, null standing for the gateway's default.</summary>
    public IReadOnlyList<string?> TransportRuns => RelayTransports.Count == 0 ? [null] : [.. RelayTransports];

    /// <summary>How long an idle silo's CPU is measured (utime + stime from /proc).</summary>
    public TimeSpan IdleWindow => Quick ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a fresh silo is left alone before its idle CPU is measured. Tiered compilation keeps recompiling hot
    /// methods in the background for about a minute after start (measured per thread: at 36 s the JIT thread was more
    /// than half of a one-agent silo's 4.1%, at 60-100 s the silo used 1.5-2.0%), and idle means after that.
    /// </summary>
    public TimeSpan IdleSettle => Quick ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(60);

    /// <summary>Phases to run (all when empty): one-silo, limits, two-silos, four-silos, idle, agents, routing.</summary>
    public IReadOnlySet<string> Phases { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public bool Runs(string phase) => Phases.Count == 0 || Phases.Contains(phase);

    public string ResultsDirectory => Path.Combine(Root, "bench", "results");

    public string LogDirectory => Path.Combine(ResultsDirectory, "logs");

    public string OutputPath => Output ?? Path.Combine(ResultsDirectory, "latest.json");

    /// <summary>File the pids of started processes are appended to (run.sh kills them on exit).</summary>
    public string? PidFile { get; init; } = Environment.GetEnvironmentVariable("BENCH_PIDFILE");

    /// <summary>The Native AOT agent, when run.sh could publish it.</summary>
    public string? AotAgent { get; init; } = Environment.GetEnvironmentVariable("BENCH_AOT_AGENT");

    public int CapacityStreams => Quick ? 100 : 1000;

    public int CapacityAgents => Quick ? 100 : 1000;

    public int CrossSiloStreams => Quick ? 50 : 200;

    public string SiloDll => Path.Combine(Root, "Synapse.Silo", "bin", Configuration, "net10.0", "Synapse.Silo.dll");

    public string AgentDll => Path.Combine(Root, "Synapse.Client", "bin", Configuration, "net10.0", "synapse-client.dll");

    public string UpstreamDll => Path.Combine(Root, "bench", "Synapse.Bench.Upstream", "bin", Configuration, "net10.0", "Synapse.Bench.Upstream.dll");

    public string AgentsDll => Path.Combine(Root, "bench", "Synapse.Bench.Agents", "bin", Configuration, "net10.0", "Synapse.Bench.Agents.dll");

    public static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Synapse.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? Directory.GetCurrentDirectory();
    }
}
