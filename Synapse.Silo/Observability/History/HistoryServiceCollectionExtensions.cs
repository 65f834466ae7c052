using Microsoft.Extensions.DependencyInjection.Extensions;
using Synapse.Grains.Observability;

namespace Synapse.Silo.Observability.History;

public static class HistoryServiceCollectionExtensions
{
    /// <summary>
    /// The traffic history behind the status page's charts: the recorder calls count into, the per-second sampler,
    /// and the <see cref="ILocalHistory"/> this silo's <c>SiloHistoryGrain</c> reads, with its options.
    /// </summary>
    public static IServiceCollection AddTrafficHistory(this IServiceCollection services)
    {
        services.AddOptions<HistoryOptions>()
            .BindConfiguration(HistoryOptions.SectionName)
            .Validate(o => o.MaxModels is >= 1 and <= 1000, "Synapse:History:MaxModels must be 1-1000.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<RequestHistory>();
        services.AddSingleton<ILocalHistory>(sp => sp.GetRequiredService<RequestHistory>());
        services.AddHostedService<HistorySampler>();
        return services;
    }
}
