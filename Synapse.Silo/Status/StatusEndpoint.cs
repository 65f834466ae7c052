using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Net.Http.Headers;
using Synapse.Silo.Api.Auth;
using Synapse.Silo.Api.Errors;

namespace Synapse.Silo.Status;

/// <summary>
/// <c>GET /status</c>: the cluster as JSON (behind the API key when one is set), or the live status page for a
/// browser asking for HTML; <c>GET /</c> is the page. The page itself holds no data: it polls the JSON.
/// </summary>
internal static class StatusEndpoint
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static readonly Lazy<byte[]> Page = new(LoadPage);

    public static Task PageAsync(HttpContext context)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers["Content-Security-Policy"] = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:";
        var page = Page.Value;
        context.Response.ContentLength = page.Length;
        return context.Response.Body.WriteAsync(page, context.RequestAborted).AsTask();
    }

    public static async Task StatusAsync(HttpContext context)
    {
        if (PrefersHtml(context.Request))
        {
            await PageAsync(context);
            return;
        }

        if (!context.RequestServices.GetRequiredService<ApiKeyValidator>().IsApiCaller(context.Request))
        {
            await OpenAIError.Unauthorized(context);
            return;
        }

        var status = await context.RequestServices.GetRequiredService<ClusterStatusProvider>().GetAsync(context.RequestAborted);
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, status, Json, context.RequestAborted);
    }

    private static bool PrefersHtml(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted) || accepted.Count == 0)
        {
            return false;
        }

        var html = accepted.Where(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(-1).Max();
        var json = accepted.Where(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(-1).Max();
        return html > json;
    }

    private static byte[] LoadPage()
    {
        using var stream = typeof(StatusEndpoint).Assembly.GetManifestResourceStream("Synapse.Silo.Status.StatusPage.html")
            ?? throw new InvalidOperationException("The status page is missing from the build.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
