namespace Synapse.Grains.Models;

/// <summary>One socket of a <see cref="ModelInstance"/>, as last registered by the silo holding it.</summary>
internal sealed class InstanceConnection(string connectionId, SiloAddress silo)
{
    public string ConnectionId { get; } = connectionId;

    public SiloAddress Silo { get; } = silo;

    public bool Draining { get; set; }

    public long LastRefreshTick { get; set; }

    public DateTimeOffset LastRefresh { get; set; }
}
