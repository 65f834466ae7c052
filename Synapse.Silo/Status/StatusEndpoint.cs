using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Synapse.Silo.Api.Errors;
using Synapse.Silo.Hosting;
using Synapse.Silo.Install;
using Synapse.Grains.Models;
using Synapse.Silo.Api.Auth;
using Synapse.Silo.Observability.History;
using Synapse.Silo.Tenancy;

namespace Synapse.Silo.Status;

/// <summary>
/// The status page and its data. <c>GET /</c> is the page (and <c>GET /status</c> for a browser asking for HTML),
/// its script and styles are <c>/status.js</c>, <c>/charts.js</c> and <c>/status.css</c>: all public and holding no
/// data. The data is JSON behind the API key when one is set: <c>GET /status</c> (the cluster now) and
/// <c>GET /status/history</c> (the last 15 minutes, second by second).
/// </summary>
internal static class StatusEndpoint
{
    /// <summary>
    /// No inline script or style anywhere (the page sets styles through the DOM only), nothing from another origin,
    /// no framing, and no form that could send a typed key anywhere.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const int MaxModelLength = 256;

    /// <summary>History answers this long or longer are gzipped; the page's once-a-second polls are a few seconds and go as they are.</summary>
    private const int GzipFromSeconds = 60;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>History arrays keep their nulls: a null is a second without a sample, and positions are seconds.</summary>
    private static readonly JsonSerializerOptions HistoryJson = new(JsonSerializerDefaults.Web);

    private static readonly Lazy<StatusAsset> Page = new(() => StatusAsset.Load("Synapse.Silo.Status.StatusPage.html", "text/html; charset=utf-8"));

    private static readonly Dictionary<string, Lazy<StatusAsset>> Assets = new(StringComparer.Ordinal)
    {
        ["/status.js"] = new(() => StatusAsset.Load("Synapse.Silo.Status.status.js", "text/javascript; charset=utf-8")),
        ["/charts.js"] = new(() => StatusAsset.Load("Synapse.Silo.Status.charts.js", "text/javascript; charset=utf-8")),
        ["/status.css"] = new(() => StatusAsset.Load("Synapse.Silo.Status.status.css", "text/css; charset=utf-8")),
    };

    public static IEnumerable<string> AssetPaths => Assets.Keys;

    public static Task PageAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers["Content-Security-Policy"] = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        return WriteAssetAsync(context, Page.Value);
    }

    public static Task AssetAsync(HttpContext context) =>
        Assets.TryGetValue(context.Request.Path.Value ?? string.Empty, out var asset)
            ? WriteAssetAsync(context, asset.Value)
            : OpenAIError.NotFound(context);

    public static async Task StatusAsync(HttpContext context)
    {
        if (PrefersHtml(context.Request))
        {
            await PageAsync(context);
            return;
        }

        var services = context.RequestServices;
        var caller = ApiCallers.Authenticate(context);
        if (caller is null)
        {
            await OpenAIError.Unauthorized(context);
            return;
        }

        var tenancy = services.GetRequiredService<TenancyConfigSource>();
        var keys = tenancy.Current;
        var reload = tenancy.LastReload;
        var status = (await services.GetRequiredService<ClusterStatusProvider>().GetAsync(context.RequestAborted)).ScopedTo(caller) with
        {
            KeyGroups = new KeyGroupsStatus(
                keys.File is null ? "flags" : "file",
                keys.Fingerprint,
                [.. keys.Groups.Select(g => g.Name).Where(caller.CanSee)],
                reload?.At,
                reload is null ? null : TenancyConfigSource.ResultTag(reload.Outcome),
                reload?.Message),
        };
        if (status.Agents.Count == 0)
        {
            // Per request, not in the shared cache: the addresses are the ones this caller reached the gateway at.
            var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
            status = status with
            {
                Attach = AttachGuide.For(
                    PublicAddress.From(context.Request, options.TrustForwardedHeaders),
                    services.GetRequiredService<ClientBinaries>().Any,
                    keys.AgentKeyRequired,
                    keys.ApiKeyRequired),
            };
        }

        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, status, Json, context.RequestAborted);
    }

    /// <summary>
    /// <c>GET /status/history?since=&lt;unix second&gt;&amp;model=&lt;id&gt;</c>: the seconds after <c>since</c> (the whole
    /// 15 minutes without it) of one model, or of the whole cluster without <c>model</c>.
    /// </summary>
    public static async Task HistoryAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var caller = ApiCallers.Authenticate(context);
        if (caller is null)
        {
            await OpenAIError.Unauthorized(context);
            return;
        }

        var query = context.Request.Query;
        long since = 0;
        if (query["since"].ToString() is { Length: > 0 } sinceText
            && (!long.TryParse(sinceText, NumberStyles.None, CultureInfo.InvariantCulture, out since) || since > 1L << 40))
        {
            await OpenAIError.WriteAsync(context, StatusCodes.Status400BadRequest, OpenAIError.InvalidRequest, "invalid_since",
                "'since' must be a Unix time in seconds.");
            return;
        }

        var model = query["model"].ToString() is { Length: > 0 } named ? named : null;
        if (model is { Length: > MaxModelLength })
        {
            await OpenAIError.WriteAsync(context, StatusCodes.Status400BadRequest, OpenAIError.InvalidRequest, "invalid_model",
                $"'model' must be at most {MaxModelLength} characters.");
            return;
        }

        var history = ScopedTo(caller, model, await services.GetRequiredService<ClusterHistoryProvider>().GetAsync(since, HistoryKey(caller, model), context.RequestAborted));
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Vary = "Accept-Encoding";
        if (history.Requests.Length < GzipFromSeconds || !AcceptsGzip(context.Request))
        {
            await JsonSerializer.SerializeAsync(context.Response.Body, history, HistoryJson, context.RequestAborted);
            return;
        }

        // A whole window (the page's first load) is ~25 KB of mostly repeated numbers and nulls: ~2 KB gzipped.
        context.Response.Headers.ContentEncoding = "gzip";
        await using var gzip = new GZipStream(context.Response.Body, CompressionLevel.Fastest, leaveOpen: true);
        await JsonSerializer.SerializeAsync(gzip, history, HistoryJson, context.RequestAborted);
    }

    /// <summary>
    /// The history a caller asks for: a model of its own group (its group's total without one). An admin key names
    /// models as <c>group/model</c> and sees the whole cluster's total.
    /// </summary>
    private static string? HistoryKey(CallerIdentity caller, string? model) => (caller.IsAdmin, caller.Group) switch
    {
        (true, _) => model,
        (false, { } group) => model is null ? RequestHistory.GroupTotalKey(group.Name) : RequestHistory.KeyOf(group.Name, model),
        _ => RequestHistory.GroupTotalKey(string.Empty),
    };

    /// <summary>The models listed to a caller: its own group's by name, every group's as <c>group/model</c> for an admin.</summary>
    private static ClusterHistory ScopedTo(CallerIdentity caller, string? model, ClusterHistory history)
    {
        var models = history.Models
            .Select(ModelKey.Parse)
            .Where(k => k.Model.Length > 0 && (caller.IsAdmin || caller.CanSee(k.Group)))
            .Select(k => caller.IsAdmin ? ModelKey.For(k.Group, k.Model) : k.Model)
            .ToArray();
        return history with { Model = model, Models = models };
    }

    private static Task WriteAssetAsync(HttpContext context, StatusAsset asset)
    {
        var request = context.Request;
        var response = context.Response;
        response.ContentType = asset.ContentType;
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ETag = asset.ETag;
        response.Headers.Vary = "Accept-Encoding";
        if (request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        var body = asset.Body;
        if (AcceptsGzip(request))
        {
            body = asset.Gzipped;
            response.Headers.ContentEncoding = "gzip";
        }

        response.ContentLength = body.Length;
        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static bool AcceptsGzip(HttpRequest request) =>
        StringWithQualityHeaderValue.TryParseList(request.Headers.AcceptEncoding, out var encodings)
        && encodings.Any(e => e.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase) && e.Quality is not 0);

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
}
