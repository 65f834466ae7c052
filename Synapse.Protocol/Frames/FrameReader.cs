using System.Buffers.Binary;
using System.Text;

namespace Synapse.Protocol.Frames;

/// <summary>Reads the fields of one frame, throwing <see cref="FrameFormatException"/> on anything truncated.</summary>
public ref struct FrameReader
{
    private readonly ReadOnlySpan<byte> _span;
    private int _position;

    public FrameReader(ReadOnlySpan<byte> span, int position = 1)
    {
        _span = span;
        _position = position;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _span.Length - _position;

    public readonly ReadOnlySpan<byte> Rest => _span[_position..];

    public byte ReadByte()
    {
        Need(1);
        return _span[_position++];
    }

    public ushort ReadUInt16()
    {
        Need(2);
        var value = BinaryPrimitives.ReadUInt16LittleEndian(_span[_position..]);
        _position += 2;
        return value;
    }

    public int ReadInt32()
    {
        Need(4);
        var value = BinaryPrimitives.ReadInt32LittleEndian(_span[_position..]);
        _position += 4;
        return value;
    }

    public long ReadInt64()
    {
        Need(8);
        var value = BinaryPrimitives.ReadInt64LittleEndian(_span[_position..]);
        _position += 8;
        return value;
    }

    public uint ReadVarUInt()
    {
        uint result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = ReadByte();
            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new FrameFormatException("Malformed variable-length integer.");
    }

    public string ReadString(int maxBytes)
    {
        var length = ReadVarUInt();
        if (length > (uint)maxBytes)
        {
            throw new FrameFormatException($"String field of {length} bytes exceeds the limit of {maxBytes}.");
        }

        Need((int)length);
        var bytes = _span.Slice(_position, (int)length);
        _position += (int)length;
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new FrameFormatException("String field is not valid UTF-8.", ex);
        }
    }

    private readonly void Need(int count)
    {
        if (count < 0 || _span.Length - _position < count)
        {
            throw new FrameFormatException("Frame is truncated.");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
