using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace Synapse.Silo.Install;

/// <summary>
/// The gateway's address as the caller reached it, for URLs handed back to agents (the install script, the update
/// download). Taken from <c>Host</c> and the connection's scheme, or from <c>X-Forwarded-Proto/Host</c> only when
/// the gateway is told to trust a proxy. Validated strictly: whatever passes can be put in a shell script as is.
/// </summary>
internal sealed partial record PublicAddress(bool Secure, string Host)
{
    public string HttpUrl(string path) => $"{(Secure ? "https" : "http")}://{Host}{path}";

    public string WebSocketUrl(string path) => $"{(Secure ? "wss" : "ws")}://{Host}{path}";

    /// <summary>The address, or null when the request's host or scheme is not a plain, valid one.</summary>
    public static PublicAddress? From(HttpRequest request, bool trustForwardedHeaders)
    {
        var scheme = request.Scheme;
        var host = request.Headers.Host.ToString();
        if (trustForwardedHeaders)
        {
            if (First(request.Headers["X-Forwarded-Proto"]) is { Length: > 0 } forwardedProto)
            {
                scheme = forwardedProto;
            }

            if (First(request.Headers["X-Forwarded-Host"]) is { Length: > 0 } forwardedHost)
            {
                host = forwardedHost;
            }
        }

        scheme = scheme.Trim().ToLowerInvariant();
        host = host.Trim();
        if (scheme is not ("http" or "https") || !IsValidHost(host))
        {
            return null;
        }

        return new PublicAddress(scheme == "https", host.ToLowerInvariant());
    }

    /// <summary>A DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port. Nothing else.</summary>
    public static bool IsValidHost(string host) =>
        host.Length is > 0 and <= 255 && (HostName().IsMatch(host) || Ipv6().IsMatch(host));

    private static string? First(StringValues values)
    {
        var value = values.ToString();
        var comma = value.IndexOf(',', StringComparison.Ordinal);
        return comma < 0 ? value : value[..comma];
    }

    [GeneratedRegex(@"^(?=.{1,253}(:|$))[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex HostName();

    [GeneratedRegex(@"^\[[0-9A-Fa-f:.]{2,45}\](?::[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex Ipv6();
}
