using Synapse.Bench.Load.Load;

namespace Synapse.Bench.Load.Suite;

/// <summary>One workload on one path, with what every process spent during the measured window.</summary>
internal sealed record Measurement
{
    public required Workload Workload { get; init; }

    /// <summary>direct, one-silo, cross-silo or same-silo.</summary>
    public required string Path { get; init; }

    public required LoadResult Result { get; init; }

    public required WindowSample Window { get; init; }

    /// <summary>The relay transport the silos ran with (two-silo phase, when chosen with --relay-transports).</summary>
    public string? Transport { get; init; }

    /// <summary>The direct-path measurement taken in alternation with this one (null for the direct path itself).</summary>
    public Measurement? Baseline { get; init; }

    /// <summary>Which alternating set it belongs to (paths of one set were measured together).</summary>
    public int Set { get; init; }

    /// <summary>CPU microseconds per successful request spent by the gateway's silos (all of them), or null on the direct path.</summary>
    public double? GatewayMicrosPerRequest => MicrosPerRequest(role => role == "gateway" || role.StartsWith("silo", StringComparison.Ordinal));

    public double? AgentMicrosPerRequest => MicrosPerRequest(role => role == "agent" || role.StartsWith("agent-", StringComparison.Ordinal));

    public double? UpstreamMicrosPerRequest => MicrosPerRequest(role => role == "upstream");

    public double? LoadMicrosPerRequest => MicrosPerRequest(role => role == "load");

    /// <summary>CPU of the silos in percent of one core over the window.</summary>
    public double? GatewayCpuPercent => CpuPercent(role => role == "gateway" || role.StartsWith("silo", StringComparison.Ordinal));

    public double? AgentCpuPercent => CpuPercent(role => role == "agent" || role.StartsWith("agent-", StringComparison.Ordinal));

    private double? MicrosPerRequest(Func<string, bool> roles)
    {
        var seconds = Window.CpuSeconds.Where(p => roles(p.Key)).Select(p => p.Value).ToArray();
        return seconds.Length == 0 || Result.Ok == 0 ? null : seconds.Sum() * 1e6 / Result.Ok;
    }

    private double? CpuPercent(Func<string, bool> roles)
    {
        var seconds = Window.CpuSeconds.Where(p => roles(p.Key)).Select(p => p.Value).ToArray();
        return seconds.Length == 0 ? null : seconds.Sum() / Window.Seconds * 100;
    }
}
