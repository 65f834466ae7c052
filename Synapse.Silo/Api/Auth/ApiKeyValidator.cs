using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Synapse.Silo.Hosting;

namespace Synapse.Silo.Api.Auth;

/// <summary>
/// Checks the API and WebSocket keys in constant time. Both sides are hashed first, so neither the length nor the
/// content of the configured key leaks through timing.
/// </summary>
internal sealed class ApiKeyValidator
{
    private readonly byte[]? _apiKeyHash;
    private readonly byte[]? _wsKeyHash;

    public ApiKeyValidator(IOptions<GatewayOptions> options)
    {
        _apiKeyHash = Hash(options.Value.ApiAuthKey);
        _wsKeyHash = Hash(options.Value.WsAuthKey);
    }

    public bool ApiKeyRequired => _apiKeyHash is not null;

    public bool WsKeyRequired => _wsKeyHash is not null;

    /// <summary>Accepts <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-API-Key: &lt;key&gt;</c>.</summary>
    public bool IsApiCaller(HttpRequest request) =>
        _apiKeyHash is null
        || Matches(_apiKeyHash, BearerToken(request))
        || Matches(_apiKeyHash, request.Headers["X-API-Key"].ToString());

    /// <summary>Agents send the key as <c>Authorization: Bearer &lt;key&gt;</c>, never in the URL.</summary>
    public bool IsAgent(HttpRequest request) =>
        _wsKeyHash is null || Matches(_wsKeyHash, BearerToken(request));

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Prefix = "Bearer ";
        return header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? header[Prefix.Length..].Trim() : null;
    }

    private static bool Matches(byte[] expectedHash, string? presented) =>
        !string.IsNullOrEmpty(presented)
        && CryptographicOperations.FixedTimeEquals(expectedHash, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    private static byte[]? Hash(string? key) =>
        string.IsNullOrEmpty(key) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
