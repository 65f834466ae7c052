using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Synapse.Protocol;
using Synapse.Silo.Agents;

namespace Synapse.Silo.Health;

/// <summary>
/// <c>GET /version</c>, as the Go original serves it: the product version as plain text, for scripts and monitors
/// deciding whether an agent is current. A caller asking for JSON also gets the agent protocol range accepted.
/// No key, like the probes: a version is no secret and monitors often hold none.
/// </summary>
internal static class VersionEndpoint
{
    public static Task GetAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        byte[] body;
        if (PrefersJson(context.Request))
        {
            var agents = context.RequestServices.GetRequiredService<IOptions<AgentSessionOptions>>().Value;
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("version", ProtocolVersion.Product);
                writer.WriteStartObject("protocol");
                writer.WriteNumber("min", agents.MinProtocolVersion);
                writer.WriteNumber("max", agents.MaxProtocolVersion);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            body = buffer.ToArray();
            response.ContentType = "application/json";
        }
        else
        {
            body = System.Text.Encoding.UTF8.GetBytes(ProtocolVersion.Product);
            response.ContentType = "text/plain; charset=utf-8";
        }

        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>JSON only when asked for, and not ranked below plain text; anything else (curl's */*) gets the text.</summary>
    private static bool PrefersJson(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return false;
        }

        double json = -1;
        double text = -1;
        foreach (var media in accepted)
        {
            var quality = media.Quality ?? 1;
            if (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            {
                json = Math.Max(json, quality);
            }
            else if (media.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase))
            {
                text = Math.Max(text, quality);
            }
        }

        return json > 0 && json >= text;
    }
}
