using Microsoft.Extensions.Primitives;
using Synapse.Protocol.Messages;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// Which headers cross the gateway. The caller's credentials and proxy-only headers never reach the upstream (the
/// agent adds the upstream's own key); hop-by-hop headers never cross in either direction.
/// </summary>
internal static class HeaderPolicy
{
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        // Hop-by-hop (RFC 9110 7.6.1) and framing.
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Content-Length", "Expect", "Host",
        // Credentials of the caller, meant for the gateway only.
        "Authorization", "Proxy-Authorization", "X-API-Key", "Cookie",
        // Proxy-only.
        "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Real-IP", "Via",
        // The upstream must answer uncompressed so streams flush event by event.
        "Accept-Encoding",

    };

    private static readonly HashSet<string> NotReturned = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade",
        "Server", "Date", "Set-Cookie", "Alt-Svc", "Strict-Transport-Security",
        // The gateway sets its own (nosniff) on every answer.
        "X-Content-Type-Options",
    };

    public static HeaderField[] ForUpstream(IHeaderDictionary headers, System.Diagnostics.Activity? span)
    {
        var connectionListed = headers.Connection;
        var result = new List<HeaderField>(headers.Count);
        var ownTrace = span is { IdFormat: System.Diagnostics.ActivityIdFormat.W3C };
        foreach (var (name, values) in headers)
        {
            if (NotForwarded.Contains(name) || ListedIn(connectionListed, name) || name.StartsWith(':'))
            {
                continue;
            }

            // With tracing on, the gateway's own span replaces the caller's, so the upstream's work hangs under it.
            if (ownTrace && (name.Equals("traceparent", StringComparison.OrdinalIgnoreCase) || name.Equals("tracestate", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            foreach (var value in values)
            {
                if (value is not null)
                {
                    result.Add(new HeaderField(name, value));
                }
            }
        }

        if (ownTrace && span!.Id is { } traceParent)
        {
            result.Add(new HeaderField("traceparent", traceParent));
            if (span.TraceStateString is { Length: > 0 } traceState)
            {
                result.Add(new HeaderField("tracestate", traceState));
            }
        }

        return [.. result];
    }

    public static bool IsReturned(string name) => !NotReturned.Contains(name);

    private static bool ListedIn(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var token in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (token.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
