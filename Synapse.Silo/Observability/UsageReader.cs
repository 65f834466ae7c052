using System.Text.Json;

namespace Synapse.Silo.Observability;

/// <summary>
/// Finds the token counts an upstream reports in <c>usage</c> — in a JSON answer, or in the SSE event that carries
/// it (<c>stream_options.include_usage</c>) — without building a document.
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

    /// <summary>Looks for a usage-carrying event in a chunk of an event stream.</summary>
    public static bool TryReadFromEvents(ReadOnlySpan<byte> chunk, out long input, out long output)
    {
        // Every event line naming "usage" is tried (chunks carry "usage":null before the one that counts); the last
        // that reads wins.
        input = output = 0;
        var found = false;
        var searchFrom = 0;
        while (searchFrom < chunk.Length)
        {
            var at = chunk[searchFrom..].IndexOf(UsageKey);
            if (at < 0)
            {
                break;
            }

            at += searchFrom;
            var lineStart = chunk[..at].LastIndexOf((byte)'\n') + 1;
            var lineEnd = chunk[at..].IndexOf((byte)'\n');
            var end = lineEnd < 0 ? chunk.Length : at + lineEnd;
            var line = chunk[lineStart..end];
            if (line.StartsWith("data:"u8) && TryRead(line[5..].Trim((byte)' '), out var lineInput, out var lineOutput))
            {
                (input, output, found) = (lineInput, lineOutput, true);
            }

            searchFrom = end;
        }

        return found;
    }

    private static bool ReadCounts(ref Utf8JsonReader reader, out long input, out long output)
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
