using Microsoft.Extensions.DependencyInjection.Extensions;
using Synapse.Grains.Usage;

namespace Synapse.Silo.Usage;

/// <summary>Registers usage counting: the silo's ledger, its flushes to the usage grains and their options.</summary>
public static class UsageServiceCollectionExtensions
{
    public static IServiceCollection AddUsage(this IServiceCollection services)
    {
        services.AddOptions<UsageOptions>()
            .BindConfiguration(UsageOptions.SectionName)
            .Validate(o => o.FlushInterval >= TimeSpan.FromMilliseconds(100) && o.FlushInterval <= TimeSpan.FromMinutes(1), "Synapse:Usage:FlushInterval must be 100 ms to 1 minute.")
            .Validate(o => o.WriteInterval >= TimeSpan.FromMilliseconds(100) && o.WriteInterval <= TimeSpan.FromMinutes(10), "Synapse:Usage:WriteInterval must be 100 ms to 10 minutes.")
            .ValidateOnStart();
        services.TryAddKeyedSingleton(UsageOptions.ClockKey, TimeProvider.System);
        services.AddSingleton<UsageLedger>();
        services.AddSingleton<BudgetGate>();
        services.AddSingleton<UsageFlusher>();
        services.AddHostedService(sp => sp.GetRequiredService<UsageFlusher>());
        return services;
    }
}
