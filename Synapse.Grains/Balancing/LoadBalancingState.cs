namespace Synapse.Grains.Balancing;

/// <summary>State a policy keeps per model grain. Grains are single-threaded, so no locking.</summary>
public sealed class LoadBalancingState
{
    public Random Random { get; } = new();

    public int Cursor { get; set; }
}
