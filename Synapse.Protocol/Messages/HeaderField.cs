namespace Synapse.Protocol.Messages;

/// <summary>One HTTP header line carried over the socket. Repeated names appear as repeated fields.</summary>
public readonly record struct HeaderField(string Name, string Value);
