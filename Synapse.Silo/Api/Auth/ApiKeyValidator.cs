using Synapse.Silo.Tenancy;

namespace Synapse.Silo.Api.Auth;

/// <summary>
/// Yes or no on a request's key, asked of the key groups in force (<see cref="TenancyConfigSource"/>), so that keys
/// from <c>--config</c> are enforced and reloads take effect at once. A bridge until the request path asks
/// <see cref="TenancyConfig"/> itself for the caller's identity and group; until then any known key passes,
/// whatever its group (admin keys included).
/// </summary>
internal sealed class ApiKeyValidator(TenancyConfigSource tenancy)
{
    /// <summary>Accepts <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-API-Key: &lt;key&gt;</c>.</summary>
    public bool IsApiCaller(HttpRequest request) => tenancy.Current.AuthenticateApiCaller(request) is not null;

    /// <summary>Agents send the key as <c>Authorization: Bearer &lt;key&gt;</c>, never in the URL.</summary>
    public bool IsAgent(HttpRequest request) => tenancy.Current.AuthenticateAgent(request) is not null;
}
