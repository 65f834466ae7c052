namespace Synapse.Grains.Placement;

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute : PlacementAttribute
{
    public SiloPinnedPlacementAttribute()
        : base(SiloPinnedPlacementStrategy.Instance)
    {
    }
}
