namespace Synapse.Protocol.Messages;

/// <summary>The gateway is draining this socket: finish what is in flight and connect elsewhere.</summary>
public sealed record GoAwayMessage(string Reason);
