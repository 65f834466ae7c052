using Synapse.Protocol.Messages;

namespace Synapse.Grains.Relay;

/// <summary>One piece of a response travelling from the socket's silo to the caller's silo.</summary>
[GenerateSerializer, Immutable, Alias("synapse.RelayEvent")]
public sealed record RelayEvent
{
    [Id(0)] public required RelayEventKind Kind { get; init; }

    [Id(1)] public int StatusCode { get; init; }

    [Id(2)] public HeaderField[]? Headers { get; init; }

    [Id(3)] public byte[]? Body { get; init; }

    [Id(4)] public string? ErrorCode { get; init; }

    [Id(5)] public string? ErrorMessage { get; init; }
}
