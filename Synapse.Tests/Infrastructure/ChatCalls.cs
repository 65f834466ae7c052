using System.Globalization;
using System.Net;
using System.Text;

namespace Synapse.Tests.Infrastructure;

/// <summary>
/// Chat completion calls through a gateway, steered at the fake upstream: how many tokens it answers
/// (<c>X-Fake-Tokens</c>) and how long it waits before each (<c>X-Fake-Delay-Ms</c>).
/// </summary>
public static class ChatCalls
{
    /// <summary>A non-streaming call of three tokens, read to the end; its status.</summary>
    public static async Task<HttpStatusCode> PostAsync(HttpClient client, string model, int delayMs = 0)
    {
        using var response = await PostRawAsync(client, model, 3, delayMs);
        await response.Content.ReadAsByteArrayAsync();
        return response.StatusCode;
    }

    /// <summary>A non-streaming call; the whole response, for the caller to read and dispose.</summary>
    public static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string model, int tokens, int delayMs) =>
        client.SendAsync(Request(model, stream: false, tokens, delayMs));

    /// <summary>A streaming call, answered as soon as the head arrives; the events are read from its content.</summary>
    public static Task<HttpResponseMessage> StreamAsync(HttpClient client, string model, int tokens, int delayMs) =>
        client.SendAsync(Request(model, stream: true, tokens, delayMs), HttpCompletionOption.ResponseHeadersRead);

    private static HttpRequestMessage Request(string model, bool stream, int tokens, int delayMs)
    {
        var body = stream ? $$"""{"model":"{{model}}","stream":true}""" : $$"""{"model":"{{model}}"}""";
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Fake-Tokens", tokens.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("X-Fake-Delay-Ms", delayMs.ToString(CultureInfo.InvariantCulture));
        return request;
    }
}
