using System.IO.Hashing;
using System.Text.Json;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// Which conversation a chat or completions call belongs to, for prefix affinity (the model grain sends calls of one
/// conversation to the instance that already holds its prefix in its KV cache): the body's <c>user</c>, else the
/// <c>X-Session-Id</c> header, else the start of the prompt — the first 1 KiB of the messages up to and including the
/// first user message (system prompt and first user turn), or of a completions <c>prompt</c>, which is what turns of
/// one conversation share. Hashed to 64 bits; 0 when there is nothing to go by (other endpoints, no prompt).
/// </summary>
internal static class AffinityKeyReader
{
    public const string SessionHeader = "X-Session-Id";

    private const int PrefixBytes = 1024;
    private const long UserSeed = 1;
    private const long SessionSeed = 2;
    private const long PrefixSeed = 3;

    public static ulong Read(string path, IHeaderDictionary headers, ReadOnlySpan<byte> body)
    {
        var chat = path.EndsWith("/chat/completions", StringComparison.Ordinal);
        if (!chat && !path.EndsWith("/completions", StringComparison.Ordinal))
        {
            return 0;
        }

        var (userRange, prefixRange) = Scan(body, chat);
        var user = body[userRange];
        if (!user.IsEmpty)
        {
            return Hash(user, UserSeed);
        }

        if (headers.TryGetValue(SessionHeader, out var session) && session.Count > 0 && !string.IsNullOrEmpty(session[0]))
        {
            return Hash(System.Text.Encoding.UTF8.GetBytes(session[0]!), SessionSeed);
        }

        var prefix = body[prefixRange];
        return prefix.IsEmpty ? 0 : Hash(prefix[..Math.Min(prefix.Length, PrefixBytes)], PrefixSeed);
    }

    private static ulong Hash(ReadOnlySpan<byte> bytes, long seed)
    {
        var hash = XxHash3.HashToUInt64(bytes, seed);
        return hash == 0 ? 1 : hash;
    }

    /// <summary>Where the top-level <c>user</c> string (raw, unquoted) and the prompt lie; empty ranges where absent or unreadable.</summary>
    private static (Range User, Range Prefix) Scan(ReadOnlySpan<byte> body, bool chat)
    {
        Range user = default;
        Range prefix = default;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isUser = reader.ValueTextEquals("user"u8);
                var isPrompt = reader.ValueTextEquals(chat ? "messages"u8 : "prompt"u8);
                reader.Read();
                if (isUser && reader.TokenType == JsonTokenType.String)
                {
                    var start = (int)reader.TokenStartIndex + 1;
                    user = start..(start + reader.ValueSpan.Length);
                }
                else if (isPrompt && chat && reader.TokenType == JsonTokenType.StartArray)
                {
                    prefix = FirstTurn(ref reader);
                }
                else if (isPrompt && !chat)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    prefix = start..(int)reader.BytesConsumed;
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return default;
        }

        return (user, prefix);
    }

    /// <summary>From the messages array's start to the end of its first user message (the whole array without one); leaves the reader at its end.</summary>
    private static Range FirstTurn(ref Utf8JsonReader reader)
    {
        var start = (int)reader.TokenStartIndex;
        var end = -1;
        var messages = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            messages++;
            if (end >= 0 || reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            if (IsUserMessage(ref reader))
            {
                end = (int)reader.BytesConsumed;
            }
        }

        // No messages, no conversation: an empty array would make every such call one conversation.
        return messages == 0 ? default : start..(end >= 0 ? end : (int)reader.BytesConsumed);
    }

    /// <summary>Reads one message object to its end; true when its role is <c>user</c>.</summary>
    private static bool IsUserMessage(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        var isUser = false;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            var isRole = reader.ValueTextEquals("role"u8);
            reader.Read();
            if (isRole && reader.TokenType == JsonTokenType.String)
            {
                isUser = reader.ValueTextEquals("user"u8);
            }
            else
            {
                reader.Skip();
            }
        }

        return isUser;
    }
}
