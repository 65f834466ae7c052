using Synapse.Grains.Responses;
using Synapse.Silo.Api.Proxy;

namespace Synapse.Silo.Forwarding;

/// <summary>Puts an upstream's response head on the caller's response (what crosses is <see cref="HeaderPolicy"/>'s call).</summary>
internal static class ResponseHeads
{
    public static void Apply(HttpResponse response, in ResponseEvent head)
    {
        response.StatusCode = head.StatusCode;
        foreach (var header in head.Headers ?? [])
        {
            // The gateway frames the body itself.
            if (HeaderPolicy.IsReturned(header.Name) && !header.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                response.Headers.Append(header.Name, header.Value);
            }
        }
    }

    public static string? Find(in ResponseEvent head, string name)
    {
        foreach (var header in head.Headers ?? [])
        {
            if (header.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return header.Value;
            }
        }

        return null;
    }

    public static bool IsEventStream(in ResponseEvent head) =>
        Find(head, "Content-Type") is { } type && type.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>Undoes a head that Kestrel refused to take, so an error answer can go out instead.</summary>
    public static void Reset(HttpResponse response)
    {
        if (!response.HasStarted)
        {
            response.Headers.Clear();
            response.StatusCode = StatusCodes.Status200OK;
        }
    }
}
