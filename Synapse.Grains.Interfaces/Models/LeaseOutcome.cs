namespace Synapse.Grains.Models;

/// <summary>How a leased request ended, fed back into balancing (latency, failures).</summary>
[GenerateSerializer, Immutable, Alias("synapse.LeaseOutcome")]
public sealed record LeaseOutcome
{
    [Id(0)] public required bool Succeeded { get; init; }

    /// <summary>True when the instance failed before sending anything (the request was retried elsewhere).</summary>
    [Id(1)] public bool FailedBeforeResponse { get; init; }

    /// <summary>Time to the response head, the best signal of the instance's queueing.</summary>
    [Id(2)] public double TimeToHeadMs { get; init; }

    /// <summary>The path to the instance failed (socket, silo, relay), not the instance: no mark against it.</summary>
    [Id(3)] public bool PathFailure { get; init; }

    public static LeaseOutcome Success(double timeToHeadMs) => new() { Succeeded = true, TimeToHeadMs = timeToHeadMs };

    public static LeaseOutcome Failure(bool beforeResponse) => new() { Succeeded = false, FailedBeforeResponse = beforeResponse };

    public static LeaseOutcome Unreachable() => new() { Succeeded = false, FailedBeforeResponse = true, PathFailure = true };
}
