using System.Text.Json;

namespace Synapse.Silo.Observability;

/// <summary>
/// Finds the token counts an upstream reports in <c>usage</c> without building a document: in a JSON answer here, in
/// an event stream through <see cref="Usage.UsageEventFilter"/>.
/// </summary>
internal static class UsageReader
{
    private static ReadOnlySpan<byte> UsageKey => "\"usage\""u8;

    /// <summary>Reads <c>usage</c> from a JSON object (chat, completion, embedding or response answer).</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, out long input, out long output)
    {
        input = output = 0;
        if (json.IndexOf(UsageKey) < 0)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isUsage = reader.ValueTextEquals("usage"u8);
                reader.Read();
                if (isUsage && reader.TokenType == JsonTokenType.StartObject)
                {
                    return ReadCounts(ref reader, out input, out output);
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }

    /// <summary>Reads the counts of a <c>usage</c> object whose start the reader is on; leaves it on the object's end.</summary>
    public static bool ReadCounts(ref Utf8JsonReader reader, out long input, out long output)
    {
        input = output = 0;
        var found = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isInput = reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8);
            var isOutput = reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8);
            reader.Read();
            if ((isInput || isOutput) && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
            {
                found = true;
                if (isInput)
                {
                    input = value;
                }
                else
                {
                    output = value;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return found;
    }
}
