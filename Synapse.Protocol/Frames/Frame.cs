using System.Buffers;

namespace Synapse.Protocol.Frames;

/// <summary>
/// One whole protocol message in a buffer rented from <see cref="ArrayPool{T}.Shared"/>. Exactly one owner returns
/// it with <see cref="Return"/>; ownership moves with the value (to the socket writer, to a response sink, ...).
/// </summary>
public readonly struct Frame
{
    public Frame(byte[] buffer, int length)
    {
        Buffer = buffer;
        Length = length;
    }

    public byte[] Buffer { get; }

    public int Length { get; }

    public FrameType Type => (FrameType)Buffer[0];

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, Length);

    public bool IsEmpty => Buffer is null;

    public void Return()
    {
        if (Buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
        }
    }
}
