namespace Synapse.Grains.Relay;

/// <summary>Where the silo's inbox grains hand the batches they receive (the host's table of waiting callers).</summary>
public interface IRelayInbox
{
    void Deliver(RelayBatch batch);
}
