using System.Buffers;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.WireProtocol;

namespace Synapse.Grains.Serialization;

/// <summary>
/// Writes an <see cref="ArraySegment{T}"/> of bytes as one length-prefixed block. Orleans' memory streams carry
/// every item as <c>MemoryMessageData.Payload</c>, an <c>ArraySegment&lt;byte&gt;</c>, and its generic codec
/// writes that one byte at a time (a field header and a virtual call per byte, twice the size on the wire): the
/// single largest cost of the cross-silo response path. Segments written element-wise (by a silo without this
/// codec) are still read. Orleans looks a constructed generic's codec up by its generic definition only, so this is
/// registered as the <see cref="IFieldCodec{T}"/> service that generated codecs ask for.
/// </summary>
public sealed class ByteSegmentCodec : IFieldCodec<ArraySegment<byte>>
{
    private static readonly Type CodecType = typeof(ArraySegment<byte>);
    private readonly ArraySegmentCodec<byte> _elementWise = new(new ByteCodec());

    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, Type? expectedType, ArraySegment<byte> value)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (value.Array is null)
        {
            ReferenceCodec.WriteNullReference(ref writer, fieldIdDelta);
            return;
        }

        writer.WriteFieldHeader(fieldIdDelta, expectedType, CodecType, WireType.LengthPrefixed);
        writer.WriteVarUInt32((uint)value.Count);
        writer.Write(value.AsSpan());
    }

    public ArraySegment<byte> ReadValue<TInput>(ref Reader<TInput> reader, Field field)
    {
        if (field.WireType != WireType.LengthPrefixed)
        {
            return _elementWise.ReadValue(ref reader, field);
        }

        var length = reader.ReadVarUInt32();
        return new ArraySegment<byte>(reader.ReadBytes(length));
    }
}
