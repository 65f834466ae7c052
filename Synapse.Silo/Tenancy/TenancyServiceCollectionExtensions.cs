using Microsoft.Extensions.Options;
using Synapse.Silo.Hosting;

namespace Synapse.Silo.Tenancy;

/// <summary>Registers key groups: the config source, its reloading and its options, in one call.</summary>
public static class TenancyServiceCollectionExtensions
{
    /// <summary>
    /// Reads the key-groups file now (<c>Synapse:Tenancy:ConfigFile</c>), or builds the implicit group from the
    /// single-key flags, and registers <see cref="TenancyConfigSource"/> with its watcher. Throws
    /// <see cref="TenancyConfigException"/> when the file is invalid or unreadable, or given together with
    /// <c>--api-auth-key</c>/<c>--ws-auth-key</c>: a gateway never starts with a key setup it cannot honour.
    /// </summary>
    public static IServiceCollection AddTenancy(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<TenancyOptions>()
            .BindConfiguration(TenancyOptions.SectionName)
            .Validate(o => o.PollInterval >= TimeSpan.Zero && o.PollInterval <= TimeSpan.FromMinutes(5), "Synapse:Tenancy:PollInterval must be 0 (off) to 5 minutes.")
            .Validate(o => o.SettleDelay >= TimeSpan.Zero && o.SettleDelay <= TimeSpan.FromSeconds(1), "Synapse:Tenancy:SettleDelay must be 0 to 1 s.")
            .ValidateOnStart();

        var (initial, contentHash) = LoadInitial(configuration);
        services.AddSingleton(sp => new TenancyConfigSource(
            initial,
            contentHash,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILogger<TenancyConfigSource>>(),
            sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddHostedService(sp => new TenancyConfigWatcher(
            sp.GetRequiredService<TenancyConfigSource>(),
            sp.GetRequiredService<IOptions<TenancyOptions>>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILogger<TenancyConfigWatcher>>()));
        return services;
    }

    private static (TenancyConfig Config, string? ContentHash) LoadInitial(IConfiguration configuration)
    {
        var file = configuration[$"{TenancyOptions.SectionName}:{nameof(TenancyOptions.ConfigFile)}"];
        var apiKey = configuration[$"{GatewayOptions.SectionName}:{nameof(GatewayOptions.ApiAuthKey)}"];
        var wsKey = configuration[$"{GatewayOptions.SectionName}:{nameof(GatewayOptions.WsAuthKey)}"];
        if (string.IsNullOrWhiteSpace(file))
        {
            return (TenancyConfig.FromFlags(apiKey, wsKey), null);
        }

        if (!string.IsNullOrEmpty(apiKey) || !string.IsNullOrEmpty(wsKey))
        {
            throw new TenancyConfigException(
                "--config cannot be combined with --api-auth-key or --ws-auth-key (nor with their -file forms or SYNAPSE_API_AUTH_KEY/SYNAPSE_WS_AUTH_KEY): "
                + "with a key-groups file, every key belongs to a group in it.");
        }

        var path = Path.GetFullPath(file);
        var result = TenancyConfigLoader.Load(path);
        return result.Config is { } config
            ? (config, result.ContentHash)
            : throw new TenancyConfigException(path, result.Errors);
    }
}
