namespace Synapse.Grains.Placement;

/// <summary>
/// Places a grain on the silo named at the start of its key, and nowhere else. For grains that wrap something only
/// that silo has, such as an agent's WebSocket.
/// </summary>
[GenerateSerializer, Immutable, Alias("synapse.SiloPinnedPlacement")]
public sealed class SiloPinnedPlacementStrategy : PlacementStrategy
{
    internal static readonly SiloPinnedPlacementStrategy Instance = new();
}
