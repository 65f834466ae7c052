using System.Buffers;
using System.Text.Json;
using Synapse.Silo.Forwarding;

namespace Synapse.Silo.Usage;

/// <summary>
/// Reads the usage event of an event stream on its way to the caller, whole events at a time however the bytes were
/// cut. When the gateway asked for usage itself (<see cref="StreamUsageMode.Injected"/>) it also takes out what the
/// caller did not ask for: the usage-only event and the <c>"usage":null</c> member other events then carry, so the
/// caller gets byte for byte the stream it would have had. Only then are incomplete events held back (an SSE client
/// cannot use half an event anyway); otherwise every byte goes out as it arrives.
/// </summary>
internal sealed class UsageEventFilter(StreamUsageMode mode) : IDisposable
{
    private byte[] _pending = [];
    private int _pendingLength;

    public bool Found { get; private set; }

    public long InputTokens { get; private set; }

    public long OutputTokens { get; private set; }

    /// <summary>Passes <paramref name="chunk"/> on to <paramref name="output"/> (what of it may go out yet).</summary>
    public void Write(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output, ref EventBoundary tail)
    {
        if (mode != StreamUsageMode.Injected)
        {
            output.Write(chunk);
            tail.Observe(chunk);
        }

        ReadOnlySpan<byte> data;
        if (_pendingLength == 0)
        {
            data = chunk;
        }
        else
        {
            Append(chunk);
            data = _pending.AsSpan(0, _pendingLength);
        }

        var consumed = 0;
        while (NextEvent(data[consumed..]) is var length and > 0)
        {
            Pass(data.Slice(consumed, length), output, ref tail);
            consumed += length;
        }

        var rest = data[consumed..];
        if (_pendingLength == 0)
        {
            Append(rest);
        }
        else
        {
            rest.CopyTo(_pending);
            _pendingLength = rest.Length;
        }
    }

    /// <summary>The stream ended: an incomplete last event goes out as it is.</summary>
    public void Flush(IBufferWriter<byte> output, ref EventBoundary tail)
    {
        if (_pendingLength > 0)
        {
            var rest = _pending.AsSpan(0, _pendingLength);
            if (Inspect(rest).Usage is { } usage)
            {
                (Found, InputTokens, OutputTokens) = (true, usage.Input, usage.Output);
            }

            if (mode == StreamUsageMode.Injected)
            {
                output.Write(rest);
                tail.Observe(rest);
            }
        }

        _pendingLength = 0;
    }

    public void Dispose()
    {
        if (_pending.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = [];
        }
    }

    /// <summary>The length of the first complete event (through its blank line), or 0.</summary>
    private static int NextEvent(ReadOnlySpan<byte> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            if (data[i] != '\n')
            {
                continue;
            }

            // A blank line ends an event: "\n\n" or "\n\r\n".
            if (i + 1 < data.Length && data[i + 1] == '\n')
            {
                return i + 2;
            }

            if (i + 2 < data.Length && data[i + 1] == '\r' && data[i + 2] == '\n')
            {
                return i + 3;
            }
        }

        return 0;
    }

    private void Pass(ReadOnlySpan<byte> sseEvent, IBufferWriter<byte> output, ref EventBoundary tail)
    {
        var inspection = Inspect(sseEvent);
        if (inspection.Usage is { } usage)
        {
            (Found, InputTokens, OutputTokens) = (true, usage.Input, usage.Output);
        }

        if (mode != StreamUsageMode.Injected)
        {
            return;
        }

        if (inspection.UsageOnly)
        {
            return;
        }

        if (inspection.NullUsageStart >= 0)
        {
            var before = sseEvent[..inspection.NullUsageStart];
            var after = sseEvent[(inspection.NullUsageStart + inspection.NullUsageLength)..];
            output.Write(before);
            output.Write(after);
            tail.Observe(before);
            tail.Observe(after);
            return;
        }

        output.Write(sseEvent);
        tail.Observe(sseEvent);
    }

    /// <summary>What one event's <c>data:</c> JSON says about usage, and where its <c>"usage":null</c> member lies.</summary>
    private static EventInspection Inspect(ReadOnlySpan<byte> sseEvent)
    {
        var result = new EventInspection { NullUsageStart = -1 };
        if (sseEvent.IndexOf("\"usage\""u8) < 0)
        {
            return result;
        }

        var dataAt = sseEvent.StartsWith("data:"u8) ? 0 : sseEvent.IndexOf("\ndata:"u8) + 1;
        if (dataAt < 0 || (dataAt == 0 && !sseEvent.StartsWith("data:"u8)))
        {
            return result;
        }

        var jsonStart = dataAt + 5;
        var lineEnd = sseEvent[jsonStart..].IndexOf((byte)'\n');
        var json = sseEvent.Slice(jsonStart, lineEnd < 0 ? sseEvent.Length - jsonStart : lineEnd);
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return result;
            }

            var choicesEmpty = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var nameStart = (int)reader.TokenStartIndex;
                var isUsage = reader.ValueTextEquals("usage"u8);
                var isChoices = reader.ValueTextEquals("choices"u8);
                reader.Read();
                if (isUsage && reader.TokenType == JsonTokenType.StartObject)
                {
                    if (Observability.UsageReader.ReadCounts(ref reader, out var input, out var output))
                    {
                        result.Usage = (input, output);
                    }

                    continue;
                }

                if (isUsage && reader.TokenType == JsonTokenType.Null)
                {
                    var (start, length) = MemberRange(json, nameStart, (int)reader.BytesConsumed);
                    (result.NullUsageStart, result.NullUsageLength) = (jsonStart + start, length);
                }
                else if (isChoices && reader.TokenType == JsonTokenType.StartArray)
                {
                    // A copy of the reader peeks at the first element without losing the place.
                    var peek = reader;
                    choicesEmpty = peek.Read() && peek.TokenType == JsonTokenType.EndArray;
                }

                reader.Skip();
            }

            result.UsageOnly = result.Usage is not null && choicesEmpty;
        }
        catch (JsonException)
        {
            return new EventInspection { NullUsageStart = -1 };
        }

        return result;
    }

    /// <summary>A member's bytes with one comma beside it, so the object stays valid without it.</summary>
    private static (int Start, int Length) MemberRange(ReadOnlySpan<byte> json, int nameStart, int valueEnd)
    {
        var before = nameStart - 1;
        while (before >= 0 && json[before] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            before--;
        }

        if (before >= 0 && json[before] == ',')
        {
            return (before, valueEnd - before);
        }

        // The first member: take the comma after it instead, and the blanks up to the next member.
        var after = valueEnd;
        while (after < json.Length && json[after] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            after++;
        }

        if (after < json.Length && json[after] == ',')
        {
            after++;
            while (after < json.Length && json[after] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                after++;
            }
        }

        return (nameStart, after - nameStart);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var needed = _pendingLength + bytes.Length;
        if (needed > _pending.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 1024));
            _pending.AsSpan(0, _pendingLength).CopyTo(grown);
            if (_pending.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_pending);
            }

            _pending = grown;
        }

        bytes.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength = needed;
    }

    private struct EventInspection
    {
        public (long Input, long Output)? Usage;
        public bool UsageOnly;
        public int NullUsageStart;
        public int NullUsageLength;
    }
}
