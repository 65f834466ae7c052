using System.Text.Json;

namespace Synapse.Client.Engine;

/// <summary>
/// llama.cpp server's JSON endpoints, from ggml-org/llama.cpp <c>tools/server/server.cpp</c>: <c>GET /slots</c> (on
/// by default, <c>--no-slots</c> turns it off) is an array with one object per slot, each with <c>id</c>,
/// <c>n_ctx</c> and <c>is_processing</c>; <c>GET /props</c> has <c>total_slots</c> (<c>--parallel</c>). Read with a
/// forward-only reader over the (bounded) body: no document is built, prompts inside are skipped unread.
/// </summary>
internal static class LlamaCppSlots
{
    /// <summary>Slots in the list and how many of them are processing; false when the body is not such a list.</summary>
    public static bool TryParseSlots(ReadOnlySpan<byte> json, out int total, out int processing)
    {
        total = processing = 0;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return false;
                }

                var isSlot = false;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var busy = reader.ValueTextEquals("is_processing"u8);
                    reader.Read();
                    if (busy)
                    {
                        if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                        {
                            return false;
                        }

                        isSlot = true;
                        processing += reader.TokenType == JsonTokenType.True ? 1 : 0;
                    }
                    else
                    {
                        reader.Skip();
                    }
                }

                if (!isSlot)
                {
                    return false;
                }

                total++;
            }

            return total > 0 && reader.TokenType == JsonTokenType.EndArray;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary><c>total_slots</c> from <c>/props</c>, when present and sensible.</summary>
    public static bool TryParseTotalSlots(ReadOnlySpan<byte> json, out int totalSlots)
    {
        totalSlots = 0;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var wanted = reader.ValueTextEquals("total_slots"u8);
                reader.Read();
                if (wanted)
                {
                    return reader.TokenType == JsonTokenType.Number
                        && reader.TryGetInt32(out totalSlots)
                        && totalSlots is >= 1 and <= EngineMetricsParser.MaxCount;
                }

                reader.Skip();
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
