namespace Synapse.Grains.Models;

[GenerateSerializer, Immutable, Alias("synapse.AcquireResult")]
public sealed record AcquireResult
{
    [Id(0)] public required AcquireStatus Status { get; init; }

    [Id(1)] public Lease? Lease { get; init; }

    /// <summary>For 429 and 503 answers: when trying again makes sense.</summary>
    [Id(2)] public int RetryAfterSeconds { get; init; }

    /// <summary>How long the request waited in the queue.</summary>
    [Id(3)] public TimeSpan Queued { get; init; }

    public static AcquireResult Of(AcquireStatus status, int retryAfterSeconds = 0) =>
        new() { Status = status, RetryAfterSeconds = retryAfterSeconds };
}
