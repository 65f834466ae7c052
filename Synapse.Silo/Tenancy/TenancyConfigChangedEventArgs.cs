namespace Synapse.Silo.Tenancy;

/// <summary>A new key-groups config came into force; <see cref="Previous"/> is what it replaced.</summary>
public sealed class TenancyConfigChangedEventArgs(TenancyConfig previous, TenancyConfig current) : EventArgs
{
    public TenancyConfig Previous { get; } = previous;

    public TenancyConfig Current { get; } = current;
}
