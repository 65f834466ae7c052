using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Synapse.Client.Hosting;
using Synapse.Protocol.Messages;

namespace Synapse.Client.Upstream;

/// <summary>HTTP to the LLM server next to the agent. Its key is added here and nowhere else.</summary>
public sealed class UpstreamClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _base;
    private readonly string? _apiKey;

    public UpstreamClient(AgentOptions options)
    {
        _base = NormalizeBase(options.Upstream);
        _apiKey = options.UpstreamApiKey;
        _http = new HttpClient(new SocketsHttpHandler
        {
            // The upstream sits next to the agent; a proxy from the environment would only get in the way.
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.UpstreamConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            MaxConnectionsPerServer = int.MaxValue,
        })
        {
            // Generations take as long as they take; the gateway's idle timeout and cancellation bound them.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The upstream's base URL without a trailing slash or <c>/v1</c>.</summary>
    public string BaseUrl => _base;

    public static string NormalizeBase(Uri upstream)
    {
        var text = upstream.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (text.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            text = text[..^3];
        }

        return text;
    }

    public Uri Resolve(string pathAndQuery) => new(_base + (pathAndQuery.StartsWith('/') ? pathAndQuery : "/" + pathAndQuery));

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_apiKey is { Length: > 0 })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }

        return _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>The upstream's <c>GET /v1/models</c>, or null when it cannot be reached or answers nonsense.</summary>
    public async Task<IReadOnlyList<ModelAdvert>?> ListModelsAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Resolve("/v1/models"));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var response = await SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token);
            var root = document.RootElement;
            var data = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var list) ? list : root;
            if (data.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var models = new List<ModelAdvert>();
            foreach (var item in data.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object
                    && item.TryGetProperty("id", out var id)
                    && id.ValueKind == JsonValueKind.String
                    && id.GetString() is { Length: > 0 } modelId)
                {
                    models.Add(new ModelAdvert(modelId, item.Clone()));
                }
            }

            return models;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or OperationCanceledException or IOException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
