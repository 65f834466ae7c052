using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Synapse.Protocol.Frames;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// Finds the <c>model</c> a request names, without building a document: JSON bodies (the usual case), multipart
/// forms (audio transcription) and URL-encoded forms. The whole JSON body is validated on the way.
/// </summary>
internal static class ModelNameReader
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    public static async ValueTask<ModelNameResult> ReadAsync(ReadOnlyMemory<byte> body, string? contentType)
    {
        if (!Utf8.IsValid(body.Span) && !IsMultipart(contentType, out _))
        {
            return ModelNameResult.Invalid("invalid_json", "The request body is not valid UTF-8.");
        }

        if (IsMultipart(contentType, out var boundary))
        {
            return await ReadMultipartAsync(body, boundary);
        }

        var mediaType = MediaTypeOf(contentType);
        if (mediaType is null or "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal) || LooksLikeJson(body.Span))
        {
            return ReadJson(body.Span);
        }

        if (mediaType == "application/x-www-form-urlencoded")
        {
            var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body.Span));
            return form.TryGetValue("model", out var value) ? Check(value.ToString()) : ModelNameResult.Missing;
        }

        return ModelNameResult.Unsupported(mediaType);
    }

    public static ModelNameResult ReadJson(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return ModelNameResult.Invalid("invalid_json", "The request body is empty; expected a JSON object.");
        }

        var reader = new Utf8JsonReader(body, isFinalBlock: true, state: new JsonReaderState(ReaderOptions));
        string? model = null;
        var modelSeen = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return ModelNameResult.Invalid("invalid_json", "The request body must be a JSON object.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = reader.ValueTextEquals("model"u8);
                reader.Read();
                if (isModel)
                {
                    modelSeen = true;
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        reader.Skip();
                        model = null;
                        continue;
                    }

                    model = reader.GetString();
                }
                else
                {
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return ModelNameResult.Invalid("invalid_json", "The request body is not a single JSON object.");
            }
        }
        catch (JsonException ex)
        {
            return ModelNameResult.Invalid("invalid_json", $"The request body is not valid JSON: {Describe(ex)}");
        }
        catch (InvalidOperationException)
        {
            return ModelNameResult.Invalid("invalid_json", "The request body is not valid JSON.");
        }

        if (!modelSeen)
        {
            return ModelNameResult.Missing;
        }

        return model is null
            ? ModelNameResult.Invalid("invalid_model", "'model' must be a string.")
            : Check(model);
    }

    private static async ValueTask<ModelNameResult> ReadMultipartAsync(ReadOnlyMemory<byte> body, string boundary)
    {
        try
        {
            using var stream = new MemoryStream(body.ToArray(), writable: false);
            var reader = new MultipartReader(boundary, stream) { HeadersCountLimit = 32, HeadersLengthLimit = 16 * 1024 };
            while (await reader.ReadNextSectionAsync() is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    && disposition.IsFormDisposition()
                    && HeaderUtilities.RemoveQuotes(disposition.Name).Equals("model", StringComparison.Ordinal))
                {
                    using var text = new StreamReader(section.Body, Encoding.UTF8);
                    var buffer = new char[ProtocolLimits.MaxModelIdBytes + 1];
                    var read = await text.ReadBlockAsync(buffer);
                    return Check(new string(buffer, 0, read).Trim());
                }
            }

            return ModelNameResult.Missing;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            return ModelNameResult.Invalid("invalid_body", "The multipart body is malformed.");
        }
    }

    private static ModelNameResult Check(string model)
    {
        if (model.Length == 0)
        {
            return ModelNameResult.Invalid("invalid_model", "'model' must not be empty.");
        }

        if (Encoding.UTF8.GetByteCount(model) > ProtocolLimits.MaxModelIdBytes)
        {
            return ModelNameResult.Invalid("invalid_model", $"'model' is longer than {ProtocolLimits.MaxModelIdBytes} bytes.");
        }

        if (model.Any(char.IsControl))
        {
            return ModelNameResult.Invalid("invalid_model", "'model' contains control characters.");
        }

        return ModelNameResult.Found(model);
    }

    private static bool IsMultipart(string? contentType, out string boundary)
    {
        boundary = string.Empty;
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            || !parsed.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        boundary = HeaderUtilities.RemoveQuotes(parsed.Boundary).ToString();
        return boundary.Length is > 0 and <= 256;
    }

    private static string? MediaTypeOf(string? contentType) =>
        contentType is not null && MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            ? parsed.MediaType.ToString().ToLowerInvariant()
            : null;

    /// <summary><c>curl -d</c> sends JSON as a form unless told otherwise; such bodies are still JSON.</summary>
    private static bool LooksLikeJson(ReadOnlySpan<byte> body)
    {
        var trimmed = body.TrimStart(" \t\r\n"u8);
        return !trimmed.IsEmpty && trimmed[0] == (byte)'{';
    }

    private static string Describe(JsonException ex) =>
        ex.LineNumber is { } line ? $"error at line {line + 1}, position {ex.BytePositionInLine + 1}." : "malformed.";
}

internal readonly record struct ModelNameResult(string? Model, int Status, string Code, string Message)
{
    public bool IsFound => Model is not null;

    public static ModelNameResult Missing =>
        new(null, StatusCodes.Status400BadRequest, "missing_model", "The request must name a 'model'.");

    public static ModelNameResult Found(string model) => new(model, StatusCodes.Status200OK, string.Empty, string.Empty);

    public static ModelNameResult Invalid(string code, string message) => new(null, StatusCodes.Status400BadRequest, code, message);

    public static ModelNameResult Unsupported(string? mediaType) =>
        new(null, StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
            $"Content type '{mediaType}' is not supported; send JSON (application/json) or a form.");
}
