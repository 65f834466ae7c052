using Orleans.Serialization.Cloning;

namespace Synapse.Grains.Serialization;

/// <summary>
/// Copies an <see cref="ArraySegment{T}"/> of bytes in one block rather than Orleans' element-by-element generic
/// copier: a memory-stream item published to a queue on the same silo is deep-copied this way.
/// </summary>
public sealed class ByteSegmentCopier : IDeepCopier<ArraySegment<byte>>
{
    public ArraySegment<byte> DeepCopy(ArraySegment<byte> input, CopyContext context) =>
        input.Array is null ? input : new ArraySegment<byte>(input.AsSpan().ToArray());
}
