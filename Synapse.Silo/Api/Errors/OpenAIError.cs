using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Synapse.Silo.Api.Errors;

/// <summary>
/// Every error the gateway itself answers, in OpenAI's shape: <c>{"error":{"message","type","code"}}</c> with the
/// matching status. Never a stack trace, never plain text.
/// </summary>
internal static class OpenAIError
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Permission = "permission_error";
    public const string RateLimit = "rate_limit_error";

    /// <summary>OpenAI's type (and code) for a spent quota.</summary>
    public const string InsufficientQuota = "insufficient_quota";
    public const string Server = "server_error";

    public static Task WriteAsync(HttpContext context, int status, string type, string code, string message, int? retryAfterSeconds = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        if (retryAfterSeconds is { } retry)
        {
            response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
        }

        var body = Serialize(type, code, message, param: null);
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>The same error as one server-sent event, for a stream that already started.</summary>
    public static byte[] SseEvent(string type, string code, string message)
    {
        var json = Serialize(type, code, message, param: null);
        var prefix = "data: "u8;
        var suffix = "\n\n"u8;
        var bytes = new byte[prefix.Length + json.Length + suffix.Length];
        prefix.CopyTo(bytes);
        json.CopyTo(bytes, prefix.Length);
        suffix.CopyTo(bytes.AsSpan(prefix.Length + json.Length));
        return bytes;
    }

    public static byte[] Serialize(string type, string code, string message, string? param)
    {
        using var stream = new MemoryStream(128 + message.Length);
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", type);
            if (param is null)
            {
                writer.WriteNull("param");
            }
            else
            {
                writer.WriteString("param", param);
            }

            writer.WriteString("code", code);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }

    public static Task Unauthorized(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status401Unauthorized, Authentication, "invalid_api_key",
            "Missing or invalid API key. Send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.");

    public static Task NotFound(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status404NotFound, InvalidRequest, "not_found",
            $"No route for {context.Request.Method} {Sanitize(context.Request.Path.Value)}.");

    public static Task MethodNotAllowed(HttpContext context, string allow)
    {
        context.Response.Headers.Allow = allow;
        return WriteAsync(context, StatusCodes.Status405MethodNotAllowed, InvalidRequest, "method_not_allowed",
            $"{context.Request.Method} is not allowed here; use {allow}.");
    }

    public static Task ModelNotFound(HttpContext context, string model) =>
        WriteAsync(context, StatusCodes.Status404NotFound, InvalidRequest, "model_not_found",
            $"The model '{Sanitize(model)}' does not exist or no agent serves it.");

    /// <summary>Keeps what the caller sent from flooding an error message.</summary>
    public static string Sanitize(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var trimmed = value.Length > 200 ? value[..200] + "..." : value;
        return string.Create(trimmed.Length, trimmed, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }
}
