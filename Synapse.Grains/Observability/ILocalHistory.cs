namespace Synapse.Grains.Observability;

/// <summary>The traffic history this silo records (the host supplies it), read by its <see cref="SiloHistoryGrain"/>.</summary>
public interface ILocalHistory
{
    SiloHistory Read(long since, string? model);
}
