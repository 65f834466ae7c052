namespace Synapse.Grains.Models;

/// <summary>Asks a model grain for an instance to serve one request.</summary>
[GenerateSerializer, Immutable, Alias("synapse.AcquireRequest")]
public sealed record AcquireRequest
{
    /// <summary>Becomes the lease id; the request carries it to the agent.</summary>
    [Id(0)] public required long RequestId { get; init; }

    /// <summary>The silo that took the API call, for locality-aware balancing.</summary>
    [Id(1)] public required SiloAddress CallerSilo { get; init; }

    /// <summary>Agents that already failed this request before answering.</summary>
    [Id(2)] public string[] ExcludedAgents { get; init; } = [];

    /// <summary>Sockets that could not take this request (gone, draining); their agents may still serve it elsewhere.</summary>
    [Id(4)] public string[] ExcludedConnections { get; init; } = [];

    /// <summary>How long the request may wait in the model's queue when every instance is busy.</summary>
    [Id(3)] public TimeSpan? QueueTimeout { get; init; }

    /// <summary>
    /// How long to wait for an instance when none is live but one was a moment ago; null for the model's default.
    /// A retry after its instance dropped mid-request waits less: the caller was promised an answer soon.
    /// </summary>
    [Id(5)] public TimeSpan? ReconnectGrace { get; init; }

    /// <summary>
    /// The conversation this request belongs to (a hash of its <c>user</c>, its session header or the start of its
    /// prompt), so it goes where its prefix is cached; 0 for none.
    /// </summary>
    [Id(6)] public ulong AffinityKey { get; init; }
}
