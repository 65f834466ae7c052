namespace Synapse.Silo.Limits;

/// <summary>Registers per-key and per-group limits: the gate in front of forwarding and its background sweep.</summary>
public static class LimitsServiceCollectionExtensions
{
    public static IServiceCollection AddLimits(this IServiceCollection services)
    {
        services.AddSingleton<LimitGate>();
        services.AddHostedService<LimitSweeper>();
        return services;
    }
}
