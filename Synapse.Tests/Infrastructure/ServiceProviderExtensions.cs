using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Synapse.Silo.Hosting;

namespace Synapse.Tests.Infrastructure;

public static class ServiceProviderExtensions
{
    public static string? GetApiKey(this IServiceProvider services) =>
        services.GetRequiredService<IOptions<GatewayOptions>>().Value.ApiAuthKey;
}
