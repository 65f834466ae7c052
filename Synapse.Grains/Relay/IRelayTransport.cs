namespace Synapse.Grains.Relay;

/// <summary>
/// The one seam between the relay and Orleans' streaming facilities (<see cref="RelayTransports"/>): how an outbox on
/// the socket's silo hands envelopes to an inbox of the caller's silo. Everything else (batching, ordering, sequence
/// checks, keepalives, stall and death handling) is the relay's own and the same for every transport.
/// </summary>
public interface IRelayTransport
{
    /// <summary>The transport's name, one of <see cref="RelayTransports"/>.</summary>
    string Name { get; }

    /// <summary>
    /// A writer to inbox <paramref name="shard"/> of <paramref name="callerSilo"/>. The outbox keeps it and awaits each
    /// publish before the next, which is what keeps a response's batches in order.
    /// </summary>
    IRelayInboxWriter Open(SiloAddress callerSilo, int shard);
}
