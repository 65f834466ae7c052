using System.Buffers;
using System.Text.Json;

namespace Synapse.Silo.Usage;

/// <summary>
/// Makes a streaming chat or completion request ask its upstream for usage (<c>"stream_options":{"include_usage":true}</c>)
/// when the caller did not, so every stream's tokens are counted exactly. The body is edited, not re-serialized:
/// everything else reaches the upstream byte for byte.
/// </summary>
public static class IncludeUsageInjector
{
    private static readonly byte[] WholeOption = "\"stream_options\":{\"include_usage\":true},"u8.ToArray();
    private static readonly byte[] IncludeMember = "\"include_usage\":true,"u8.ToArray();
    private static readonly byte[] True = "true"u8.ToArray();

    /// <summary>Routes whose streams carry a final usage event when asked (OpenAI's chat and completions).</summary>
    public static bool Supports(string path) => path is "/v1/chat/completions" or "/v1/completions";

    /// <summary>
    /// Decides how <paramref name="body"/>'s usage will arrive; when it is <see cref="StreamUsageMode.Injected"/>,
    /// <paramref name="rewritten"/> holds the new body in a buffer rented from the shared pool (its length in
    /// <paramref name="length"/>), for the caller to return.
    /// </summary>
    public static StreamUsageMode Prepare(ReadOnlySpan<byte> body, out byte[]? rewritten, out int length)
    {
        rewritten = null;
        length = 0;
        if (!TryInspect(body, out var request) || !request.Stream)
        {
            return StreamUsageMode.Answer;
        }

        if (request.IncludeUsage == true)
        {
            return StreamUsageMode.CallerAsked;
        }

        // Where the edit goes: into stream_options (its value replaced, or a member added) or a new member first.
        ReadOnlySpan<byte> insert;
        int at;
        int removed;
        if (request.IncludeUsageValueStart >= 0)
        {
            insert = True;
            (at, removed) = (request.IncludeUsageValueStart, request.IncludeUsageValueLength);
        }
        else if (request.OptionsObjectStart >= 0)
        {
            var empty = request.OptionsObjectEmpty;
            insert = empty ? IncludeMember.AsSpan(0, IncludeMember.Length - 1) : IncludeMember;
            (at, removed) = (request.OptionsObjectStart + 1, 0);
        }
        else if (request.OptionsNull >= 0)
        {
            // "stream_options":null
            insert = "{\"include_usage\":true}"u8;
            (at, removed) = (request.OptionsNull, 4);
        }
        else
        {
            var empty = request.BodyEmpty;
            insert = empty ? WholeOption.AsSpan(0, WholeOption.Length - 1) : WholeOption;
            (at, removed) = (request.BodyStart + 1, 0);
        }

        length = body.Length - removed + insert.Length;
        rewritten = ArrayPool<byte>.Shared.Rent(length);
        body[..at].CopyTo(rewritten);
        insert.CopyTo(rewritten.AsSpan(at));
        body[(at + removed)..].CopyTo(rewritten.AsSpan(at + insert.Length));
        return StreamUsageMode.Injected;
    }

    private static bool TryInspect(ReadOnlySpan<byte> body, out Inspection found)
    {
        found = new Inspection();
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            found.BodyStart = (int)reader.TokenStartIndex;
            found.BodyEmpty = true;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                found.BodyEmpty = false;
                var isStream = reader.ValueTextEquals("stream"u8);
                var isOptions = reader.ValueTextEquals("stream_options"u8);
                reader.Read();
                if (isStream)
                {
                    found.Stream = reader.TokenType == JsonTokenType.True;
                }
                else if (isOptions && reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadOptions(ref reader, ref found);
                    continue;
                }
                else if (isOptions && reader.TokenType == JsonTokenType.Null)
                {
                    found.OptionsNull = (int)reader.TokenStartIndex;
                }
                else if (isOptions)
                {
                    // Not an object: the upstream will refuse it as it is; leave it alone.
                    return false;
                }

                reader.Skip();
            }

            return reader.TokenType == JsonTokenType.EndObject && reader.Read() is false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void ReadOptions(ref Utf8JsonReader reader, ref Inspection found)
    {
        found.OptionsObjectStart = (int)reader.TokenStartIndex;
        found.OptionsObjectEmpty = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            found.OptionsObjectEmpty = false;
            var isInclude = reader.ValueTextEquals("include_usage"u8);
            reader.Read();
            if (isInclude)
            {
                found.IncludeUsage = reader.TokenType == JsonTokenType.True;
                found.IncludeUsageValueStart = (int)reader.TokenStartIndex;
                found.IncludeUsageValueLength = (int)(reader.BytesConsumed - reader.TokenStartIndex);
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    // Not a boolean: leave the body as the caller wrote it.
                    found.IncludeUsage = true;
                }
            }

            reader.Skip();
        }
    }

    private struct Inspection()
    {
        public bool Stream;
        public bool? IncludeUsage;
        public int BodyStart = -1;
        public bool BodyEmpty;
        public int OptionsObjectStart = -1;
        public bool OptionsObjectEmpty;
        public int OptionsNull = -1;
        public int IncludeUsageValueStart = -1;
        public int IncludeUsageValueLength;
    }
}
