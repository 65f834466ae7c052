using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Synapse.Protocol.Frames;

/// <summary>
/// Writes one frame into a growable buffer rented from the shared pool. <see cref="Build"/> hands the buffer over
/// as a <see cref="Frame"/>; a builder that is never built must be disposed to return it.
/// </summary>
public sealed class FrameBuilder : IBufferWriter<byte>, IDisposable
{
    private byte[]? _buffer;
    private int _written;

    public FrameBuilder(FrameType type, int sizeHint = 256)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, 64));
        _buffer[0] = (byte)type;
        _written = 1;
    }

    public FrameBuilder(FrameType type, long requestId, int sizeHint = 256)
        : this(type, sizeHint + 8)
    {
        WriteInt64(requestId);
    }

    public int Length => _written;

    public void WriteByte(byte value)
    {
        GetSpan(1)[0] = value;
        Advance(1);
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(GetSpan(2), value);
        Advance(2);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(GetSpan(4), value);
        Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(GetSpan(8), value);
        Advance(8);
    }

    public void WriteVarUInt(uint value)
    {
        var span = GetSpan(5);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        Advance(i);
    }

    public void WriteString(string? value)
    {
        value ??= string.Empty;
        var count = Encoding.UTF8.GetByteCount(value);
        WriteVarUInt((uint)count);
        var span = GetSpan(count);
        Encoding.UTF8.GetBytes(value, span);
        Advance(count);
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Advance(bytes.Length);
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public Frame Build()
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(FrameBuilder));
        _buffer = null;
        return new Frame(buffer, _written);
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private void Ensure(int sizeHint)
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(FrameBuilder));
        sizeHint = Math.Max(sizeHint, 1);
        if (buffer.Length - _written >= sizeHint)
        {
            return;
        }

        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length * 2, _written + sizeHint));
        buffer.AsSpan(0, _written).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(buffer);
        _buffer = grown;
    }
}
