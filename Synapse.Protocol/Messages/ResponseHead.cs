namespace Synapse.Protocol.Messages;

/// <summary>The upstream's status line and headers, sent by the agent before any body bytes.</summary>
public sealed record ResponseHead(long RequestId, int StatusCode, IReadOnlyList<HeaderField> Headers);
