using Synapse.Protocol.Messages;

namespace Synapse.Grains.Agents;

/// <summary>A proxied request handed from the caller's silo to the silo holding the agent's socket.</summary>
[GenerateSerializer, Immutable, Alias("synapse.RemoteRequest")]
public sealed record RemoteRequest
{
    [Id(0)] public required long RequestId { get; init; }

    [Id(1)] public required string Model { get; init; }

    [Id(2)] public required string Method { get; init; }

    [Id(3)] public required string PathAndQuery { get; init; }

    [Id(4)] public required HeaderField[] Headers { get; init; }

    [Id(5)] public required byte[] Body { get; init; }

    /// <summary>The caller's silo; response chunks go to its inbox stream.</summary>
    [Id(6)] public required SiloAddress ReplyTo { get; init; }

    /// <summary>W3C trace context of the caller's span, so the trace continues on the socket's silo.</summary>
    [Id(7)] public string? TraceParent { get; init; }
}
