using Synapse.Protocol.Messages;

namespace Synapse.Silo.Transport;

/// <summary>A caller's request, validated and ready to send to whichever instance is leased for it.</summary>
internal sealed record ForwardedRequest(
    string Model,
    string Method,
    string PathAndQuery,
    HeaderField[] Headers,
    ReadOnlyMemory<byte> Body,
    string? TraceParent);
