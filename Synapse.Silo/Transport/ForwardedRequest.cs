using Synapse.Silo.Usage;
using Synapse.Grains.Agents;
using Synapse.Protocol.Messages;

namespace Synapse.Silo.Transport;

/// <summary>A caller's request, validated and ready to send to whichever instance is leased for it.</summary>
/// <param name="Body">The body as read, in a pooled buffer the caller's handler owns until the call ends.</param>
internal sealed record ForwardedRequest(
    string Group,
    string Model,
    string Method,
    string PathAndQuery,
    HeaderField[] Headers,
    ReadOnlyMemory<byte> Body)
{
    /// <summary>How its usage arrives; <see cref="StreamUsageMode.Injected"/> when the gateway asked the upstream for it.</summary>
    public StreamUsageMode UsageMode { get; init; }

    /// <summary>The conversation it belongs to, for prefix affinity (see <c>AffinityKeyReader</c>); 0 for none.</summary>
    public ulong AffinityKey { get; init; }

    /// <summary>The name the caller asked for: an alias, or <see cref="Model"/> itself (for logs and metrics).</summary>
    public string Requested { get; init; } = Model;

    /// <summary>
    /// The models to try, in order, when no instance of <see cref="Model"/> can take the request: its group's
    /// fallbacks that the caller may use (see <c>Forwarding/FallbackRoute</c>).
    /// </summary>
    public IReadOnlyList<string> Fallbacks { get; init; } = [];

    /// <summary>This request as one attempt sends it to the socket's silo (this one or another).</summary>
    public RemoteRequest ToAttempt(long requestId, SiloAddress replyTo) => new()
    {
        RequestId = requestId,
        Model = Model,
        Method = Method,
        PathAndQuery = PathAndQuery,
        Headers = Headers,
        Body = Body,
        ReplyTo = replyTo,
    };
}
