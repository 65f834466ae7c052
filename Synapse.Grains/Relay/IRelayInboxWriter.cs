namespace Synapse.Grains.Relay;

/// <summary>Publishes to one inbox (see <see cref="IRelayTransport.Open"/>).</summary>
public interface IRelayInboxWriter
{
    /// <summary>
    /// Completes once the transport holds the envelope (memory streams: queued; broadcast channel: delivered to the
    /// inbox grain), and throws when it could not take it. A retried envelope may arrive twice; the caller's table
    /// drops the duplicate.
    /// </summary>
    Task PublishAsync(RelayEnvelope envelope, CancellationToken cancellationToken);
}
