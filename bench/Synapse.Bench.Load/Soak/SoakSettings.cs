using Synapse.Bench.Load.Suite;

namespace Synapse.Bench.Load.Soak;

/// <summary>How the soak runs (<c>bench/soak.sh</c>): its length, and when the churn and the silo restart come.</summary>
internal sealed record SoakSettings
{
    /// <summary>The repository root (the folder holding Synapse.sln).</summary>
    public required string Root { get; init; }

    public double Minutes { get; init; } = 20;

    public TimeSpan Duration => TimeSpan.FromMinutes(Minutes);

    /// <summary>Every process's memory, threads and handles are sampled this often.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Growth is measured from here to the end: minute 5 of 20, a quarter of the run, when start-up (JIT, tiered
    /// recompilation, pools filling) is long over.
    /// </summary>
    public TimeSpan BaselineAt => Duration / 4;

    /// <summary>Samples averaged at the baseline and at the end: a minute, less in short runs.</summary>
    public TimeSpan AverageOver => Duration / 10 < TimeSpan.FromMinutes(1) ? Duration / 10 : TimeSpan.FromMinutes(1);

    /// <summary>When silo B is restarted: midway.</summary>
    public TimeSpan RestartAt => Duration / 2;

    /// <summary>An agent process restarted this often (a minute; more often in runs shorter than 10 minutes).</summary>
    public TimeSpan ChurnEvery => Duration < TimeSpan.FromMinutes(10) ? Duration / 10 : TimeSpan.FromMinutes(1);

    /// <summary>A request still running this long after it should have ended counts as hung (and is cancelled).</summary>
    public TimeSpan HungAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Growth from the baseline to the end that passes, per metric.</summary>
    public double MaxGrowth => 0.10;

    public string ResultsDirectory => Path.Combine(Root, "bench", "results");

    public string CsvPath => Path.Combine(ResultsDirectory, "soak.csv");

    public string SummaryPath => Path.Combine(ResultsDirectory, "soak.md");

    /// <summary>The suite's settings, for the paths of the programs and where their logs go.</summary>
    public SuiteSettings Suite => new() { Root = Root };
}
