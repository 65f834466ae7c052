namespace Synapse.Grains.Models;

/// <summary>One instance of a model as its grain sees it.</summary>
[GenerateSerializer, Immutable, Alias("synapse.InstanceSnapshot")]
public sealed record InstanceSnapshot
{
    [Id(0)] public required string AgentId { get; init; }

    [Id(1)] public string? Name { get; init; }

    [Id(2)] public string? Hostname { get; init; }

    [Id(3)] public required int Capacity { get; init; }

    [Id(4)] public required int InFlight { get; init; }

    [Id(5)] public required string[] Silos { get; init; }

    [Id(6)] public required string State { get; init; }

    [Id(7)] public double LatencyMs { get; init; }

    [Id(8)] public DateTimeOffset LastRefresh { get; init; }

    [Id(9)] public int ConsecutiveFailures { get; init; }

    /// <summary>The engine's last reported load as the model grain balances on it; null without signals.</summary>
    [Id(10)] public Agents.EngineLoad? Engine { get; init; }

    /// <summary>Requests the grain estimates are waiting in the engine's queue now (the report, plus sent, less ended since).</summary>
    [Id(11)] public int EngineWaiting { get; init; }
}
