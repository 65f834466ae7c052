using System.Buffers;
using System.Text.Json;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// Puts the model an alias stands for into a JSON body, in place of the name the caller used: the upstream serves the
/// real name and would refuse the alias. Only the top-level <c>model</c> value changes; every other byte stays.
/// </summary>
public static class ModelNameRewriter
{
    /// <summary>
    /// The body with its top-level <c>model</c> set to <paramref name="model"/>, in a buffer rented from the shared pool
    /// (its length in <paramref name="length"/>); null when the body is not a JSON object naming a model as a string.
    /// </summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> body, string model, out int length)
    {
        length = 0;
        if (!TryFindModel(body, out var start, out var end))
        {
            return null;
        }

        var replacement = JsonEncodedText.Encode(model).EncodedUtf8Bytes;
        length = start + 1 + replacement.Length + 1 + (body.Length - end);
        var rewritten = ArrayPool<byte>.Shared.Rent(length);
        body[..start].CopyTo(rewritten);
        rewritten[start] = (byte)'"';
        replacement.CopyTo(rewritten.AsSpan(start + 1));
        rewritten[start + 1 + replacement.Length] = (byte)'"';
        body[end..].CopyTo(rewritten.AsSpan(start + 2 + replacement.Length));
        return rewritten;
    }

    /// <summary>Where the top-level <c>model</c> string lies, quotes included: [start, end).</summary>
    private static bool TryFindModel(ReadOnlySpan<byte> body, out int start, out int end)
    {
        start = end = 0;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = reader.ValueTextEquals("model"u8);
                reader.Read();
                if (isModel && reader.TokenType == JsonTokenType.String)
                {
                    (start, end) = ((int)reader.TokenStartIndex, (int)reader.BytesConsumed);
                    return true;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }
}
