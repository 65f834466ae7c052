using System.Globalization;
using System.Text;

namespace Synapse.Tests.Observability;

/// <summary>Chat calls for the charts: streamed with usage (<c>stream_options.include_usage</c>) or answered whole, steered through the fake upstream's headers.</summary>
internal static class ChartTraffic
{
    /// <returns>The status the caller got; the answer is read to its end, so the call is over when this returns.</returns>
    public static async Task<int> SendAsync(HttpClient client, string model, bool stream, int tokens, int firstDelayMs = 0, int tokenDelayMs = 0, int? failWith = null)
    {
        var body = stream
            ? $$"""{"model":"{{model}}","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"""
            : $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Fake-Tokens", tokens.ToString(CultureInfo.InvariantCulture));
        if (firstDelayMs > 0)
        {
            request.Headers.Add("X-Fake-First-Delay-Ms", firstDelayMs.ToString(CultureInfo.InvariantCulture));
        }

        if (tokenDelayMs > 0)
        {
            request.Headers.Add("X-Fake-Delay-Ms", tokenDelayMs.ToString(CultureInfo.InvariantCulture));
        }

        if (failWith is { } status)
        {
            request.Headers.Add("X-Fake-Status", status.ToString(CultureInfo.InvariantCulture));
        }

        using var response = await client.SendAsync(request);
        await response.Content.ReadAsStringAsync();
        return (int)response.StatusCode;
    }
}
