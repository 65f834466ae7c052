namespace Synapse.Silo.Cluster;

/// <summary>Whether this silo takes traffic: ready once it joined the cluster, not ready while draining.</summary>
internal sealed class GatewayState
{
    private int _joined;
    private int _draining;
    private long _inFlight;

    public bool IsJoined => Volatile.Read(ref _joined) == 1;

    public bool IsDraining => Volatile.Read(ref _draining) == 1;

    public bool IsReady => IsJoined && !IsDraining;

    /// <summary>API requests being served by this silo.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    public void MarkJoined() => Volatile.Write(ref _joined, 1);

    public void MarkDraining() => Volatile.Write(ref _draining, 1);

    public void RequestStarted() => Interlocked.Increment(ref _inFlight);

    public void RequestEnded() => Interlocked.Decrement(ref _inFlight);
}
