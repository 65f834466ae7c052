using Synapse.Protocol.Messages;

namespace Synapse.Grains.Agents;

/// <summary>
/// A proxied request as it goes to the silo holding the agent's socket, whichever that is (this one or another);
/// the agent's <see cref="RequestHead"/> is made from it in one place, <see cref="ToHead"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.RemoteRequest")]
public sealed record RemoteRequest
{
    [Id(0)] public required long RequestId { get; init; }

    [Id(1)] public required string Model { get; init; }

    [Id(2)] public required string Method { get; init; }

    [Id(3)] public required string PathAndQuery { get; init; }

    [Id(4)] public required HeaderField[] Headers { get; init; }

    /// <summary>The caller's body; on the caller's silo it is the pooled buffer the body was read into.</summary>
    [Id(5)] public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The caller's silo; response chunks go to its inbox stream.</summary>
    [Id(6)] public required SiloAddress ReplyTo { get; init; }

    // Id 7 held the caller's trace context; Orleans' activity propagation carries it instead.

    /// <summary>The head the agent receives; the body follows it in as many frames as it takes.</summary>
    public RequestHead ToHead() => new(RequestId, Model, Method, PathAndQuery, Headers, EndOfBody: true);
}
