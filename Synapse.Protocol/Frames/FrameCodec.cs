using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Synapse.Protocol.Messages;

namespace Synapse.Protocol.Frames;

/// <summary>
/// Encodes and decodes every frame. Request-scoped frames start with the type byte and an 8-byte little-endian
/// request id; handshake frames carry UTF-8 JSON after the type byte. See docs/protocol.md.
/// </summary>
public static class FrameCodec
{
    /// <summary>Offset of the payload in a request-scoped frame.</summary>
    public const int RequestPayloadOffset = 9;

    public static long ReadRequestId(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < RequestPayloadOffset)
        {
            throw new FrameFormatException("Frame is too short to carry a request id.");
        }

        return BinaryPrimitives.ReadInt64LittleEndian(frame[1..]);
    }

    public static Frame Json<T>(FrameType type, T message, JsonTypeInfo<T> typeInfo)
    {
        var builder = new FrameBuilder(type, 512);
        try
        {
            using (var writer = new Utf8JsonWriter(builder))
            {
                JsonSerializer.Serialize(writer, message, typeInfo);
            }

            return builder.Build();
        }
        catch
        {
            builder.Dispose();
            throw;
        }
    }

    public static T ReadJson<T>(ReadOnlySpan<byte> frame, JsonTypeInfo<T> typeInfo)
    {
        try
        {
            return JsonSerializer.Deserialize(frame[1..], typeInfo)
                ?? throw new FrameFormatException($"{typeof(T).Name} is null.");
        }
        catch (JsonException ex)
        {
            throw new FrameFormatException($"{typeof(T).Name} is not valid JSON: {ex.Message}", ex);
        }
    }

    public static Frame Empty(FrameType type)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1);
        buffer[0] = (byte)type;
        return new Frame(buffer, 1);
    }

    public static Frame RequestHead(RequestHead head, ReadOnlySpan<byte> firstBodyBytes)
    {
        var builder = new FrameBuilder(FrameType.RequestHead, head.RequestId, 256 + firstBodyBytes.Length);
        builder.WriteByte(head.EndOfBody ? (byte)1 : (byte)0);
        builder.WriteString(head.Model);
        builder.WriteString(head.Method);
        builder.WriteString(head.PathAndQuery);
        WriteHeaders(builder, head.Headers);
        builder.WriteBytes(firstBodyBytes);
        return builder.Build();
    }

    /// <summary>Reads a request head; the body bytes that came with it start at <paramref name="bodyOffset"/>.</summary>
    public static RequestHead ReadRequestHead(ReadOnlySpan<byte> frame, out int bodyOffset)
    {
        var reader = new FrameReader(frame);
        var id = reader.ReadInt64();
        var flags = reader.ReadByte();
        var model = reader.ReadString(ProtocolLimits.MaxModelIdBytes);
        var method = reader.ReadString(ProtocolLimits.MaxMethodBytes);
        var path = reader.ReadString(ProtocolLimits.MaxPathBytes);
        var headers = ReadHeaders(ref reader);
        bodyOffset = reader.Position;
        return new RequestHead(id, model, method, path, headers, (flags & 1) != 0);
    }

    public static Frame RequestBody(long requestId, ReadOnlySpan<byte> data, bool endOfBody)
    {
        var builder = new FrameBuilder(FrameType.RequestBody, requestId, data.Length + 1);
        builder.WriteByte(endOfBody ? (byte)1 : (byte)0);
        builder.WriteBytes(data);
        return builder.Build();
    }

    /// <summary>Body frames: id, a flag byte (1 = end of body), then the bytes from offset 10.</summary>
    public static bool ReadRequestBodyEnd(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < RequestPayloadOffset + 1)
        {
            throw new FrameFormatException("Request body frame is truncated.");
        }

        return (frame[RequestPayloadOffset] & 1) != 0;
    }

    public const int RequestBodyDataOffset = RequestPayloadOffset + 1;

    public static Frame ResponseHead(ResponseHead head)
    {
        var builder = new FrameBuilder(FrameType.ResponseHead, head.RequestId, 256);
        builder.WriteUInt16((ushort)head.StatusCode);
        WriteHeaders(builder, head.Headers);
        return builder.Build();
    }

    public static ResponseHead ReadResponseHead(ReadOnlySpan<byte> frame)
    {
        var reader = new FrameReader(frame);
        var id = reader.ReadInt64();
        var status = reader.ReadUInt16();
        if (status is < 100 or > 999)
        {
            throw new FrameFormatException($"Status code {status} is out of range.");
        }

        var headers = ReadHeaders(ref reader);
        return new ResponseHead(id, status, headers);
    }

    public static Frame ResponseBody(long requestId, ReadOnlySpan<byte> data)
    {
        var builder = new FrameBuilder(FrameType.ResponseBody, requestId, data.Length);
        builder.WriteBytes(data);
        return builder.Build();
    }

    public static Frame ResponseEnd(ResponseEnd end)
    {
        var builder = new FrameBuilder(FrameType.ResponseEnd, end.RequestId, 64);
        builder.WriteString(end.ErrorCode);
        builder.WriteString(Truncate(end.ErrorMessage, ProtocolLimits.MaxErrorMessageBytes / 4));
        return builder.Build();
    }

    public static ResponseEnd ReadResponseEnd(ReadOnlySpan<byte> frame)
    {
        var reader = new FrameReader(frame);
        var id = reader.ReadInt64();
        var code = reader.ReadString(ProtocolLimits.MaxErrorMessageBytes);
        var message = reader.ReadString(ProtocolLimits.MaxErrorMessageBytes);
        return new ResponseEnd(id, code.Length == 0 ? null : code, message.Length == 0 ? null : message);
    }

    public static Frame Cancel(long requestId)
    {
        var builder = new FrameBuilder(FrameType.Cancel, requestId, 0);
        return builder.Build();
    }

    public static Frame WindowUpdate(long requestId, int credits)
    {
        var builder = new FrameBuilder(FrameType.WindowUpdate, requestId, 4);
        builder.WriteInt32(credits);
        return builder.Build();
    }

    public static int ReadWindowUpdate(ReadOnlySpan<byte> frame, out long requestId)
    {
        var reader = new FrameReader(frame);
        requestId = reader.ReadInt64();
        var credits = reader.ReadInt32();
        if (credits <= 0)
        {
            throw new FrameFormatException("Window update must grant a positive number of bytes.");
        }

        return credits;
    }

    public static Frame Ping(FrameType type, long timestamp)
    {
        var builder = new FrameBuilder(type, 8);
        builder.WriteInt64(timestamp);
        return builder.Build();
    }

    public static long ReadPing(ReadOnlySpan<byte> frame) => new FrameReader(frame).ReadInt64();

    private static void WriteHeaders(FrameBuilder builder, IReadOnlyList<HeaderField> headers)
    {
        builder.WriteVarUInt((uint)headers.Count);
        for (var i = 0; i < headers.Count; i++)
        {
            builder.WriteString(headers[i].Name);
            builder.WriteString(headers[i].Value);
        }
    }

    private static HeaderField[] ReadHeaders(ref FrameReader reader)
    {
        var count = reader.ReadVarUInt();
        if (count > ProtocolLimits.MaxHeaderCount)
        {
            throw new FrameFormatException($"{count} headers exceed the limit of {ProtocolLimits.MaxHeaderCount}.");
        }

        var headers = new HeaderField[count];
        for (var i = 0; i < headers.Length; i++)
        {
            var name = reader.ReadString(ProtocolLimits.MaxHeaderNameBytes);
            var value = reader.ReadString(ProtocolLimits.MaxHeaderValueBytes);
            headers[i] = new HeaderField(name, value);
        }

        return headers;
    }

    private static string? Truncate(string? value, int maxChars) =>
        value is null || value.Length <= maxChars ? value : value[..maxChars];
}
