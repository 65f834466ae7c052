using System.Buffers;
using Synapse.Protocol.Messages;

namespace Synapse.Silo.Agents;

/// <summary>
/// Checks a response head from an agent before any of it reaches a caller: Kestrel throws on what HTTP cannot carry
/// (a control character in a value, a 101), and a head that smuggles framing or hop-by-hop headers is not an
/// upstream's answer an honest agent relays (the agent strips them). An invalid head fails that request like an
/// upstream failure, which the gateway retries elsewhere.
/// </summary>
internal static class ResponseHeadValidator
{
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly HashSet<string> Forbidden = new(StringComparer.OrdinalIgnoreCase)
    {
        "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE", "Trailer", "Proxy-Connection",
    };

    /// <summary>Why the head cannot be sent to a caller, or null when it can. Never quotes a value.</summary>
    public static string? Check(ResponseHead head)
    {
        if (head.StatusCode is < 200 or > 599)
        {
            return $"status {head.StatusCode} is not a final HTTP status (200-599)";
        }

        foreach (var (name, value) in head.Headers)
        {
            if (name.Length == 0 || name.AsSpan().ContainsAnyExcept(TokenChars))
            {
                return "a header name is not an HTTP token";
            }

            if (Forbidden.Contains(name))
            {
                return $"header {name} is hop-by-hop or framing, which the gateway sets itself";
            }

            if (!IsFieldValue(value))
            {
                return $"header {name} has a control or non-ASCII character in its value";
            }

            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && !long.TryParse(value, System.Globalization.NumberStyles.None, null, out _))
            {
                return "Content-Length is not a number";
            }
        }

        return null;
    }

    /// <summary>Visible ASCII, space and tab: what Kestrel writes without throwing.</summary>
    private static bool IsFieldValue(string value)
    {
        foreach (var c in value)
        {
            if ((c < 0x20 && c != '\t') || c > 0x7E)
            {
                return false;
            }
        }

        return true;
    }
}
