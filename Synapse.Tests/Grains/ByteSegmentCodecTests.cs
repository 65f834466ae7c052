using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Serialization;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.Session;
using Synapse.Grains.Serialization;

namespace Synapse.Tests.Grains;

/// <summary>Memory-stream items (every cross-silo response chunk) cross silos as one block of bytes.</summary>
[Collection(GrainClusterCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ByteSegmentCodecTests(GrainClusterFixture fixture)
{
    private IServiceProvider Services => fixture.Cluster.GetSiloServiceProvider(fixture.Silos[0]);

    [Fact]
    public void MemoryStreamItem_OnASilo_IsWrittenAsOneBlockAndReadBackWhole()
    {
        var payload = Segment(4096);
        var serializer = Services.GetRequiredService<Serializer>();

        var bytes = serializer.SerializeToArray(new MemoryMessageData { Payload = payload });
        var read = serializer.Deserialize<MemoryMessageData>(bytes);

        // Element by element, the payload alone would take at least twice its size.
        Assert.InRange(bytes.Length, payload.Count, payload.Count + 128);
        Assert.Equal(payload.ToArray(), read.Payload.ToArray());
    }

    [Fact]
    public void MemoryStreamItem_CopiedForACallOnTheSameSilo_IsAnEqualIndependentCopy()
    {
        var payload = Segment(1000);
        var copier = Services.GetRequiredService<DeepCopier>();

        var copy = copier.Copy(new MemoryMessageData { Payload = payload });

        Assert.Equal(payload.ToArray(), copy.Payload.ToArray());
        Assert.NotSame(payload.Array, copy.Payload.Array);
    }

    [Fact]
    public void ByteSegment_WrittenElementWiseByAnOlderSilo_IsStillRead()
    {
        var payload = Segment(300);
        var sessions = Services.GetRequiredService<SerializerSessionPool>();
        byte[] bytes;
        using (var session = sessions.GetSession())
        {
            var writer = Writer.CreatePooled(session);
            try
            {
                new ArraySegmentCodec<byte>(new ByteCodec()).WriteField(ref writer, 0, typeof(ArraySegment<byte>), payload);
                writer.Commit();
                bytes = writer.Output.ToArray();
            }
            finally
            {
                writer.Dispose();
            }
        }

        using var readSession = sessions.GetSession();
        var reader = Reader.Create(bytes, readSession);
        var read = new ByteSegmentCodec().ReadValue(ref reader, reader.ReadFieldHeader());

        Assert.Equal(payload.ToArray(), read.ToArray());
    }

    /// <summary>A segment in the middle of a larger array, so offsets are exercised too.</summary>
    private static ArraySegment<byte> Segment(int count)
    {
        var array = new byte[count + 20];
        Random.Shared.NextBytes(array);
        return new ArraySegment<byte>(array, 7, count);
    }
}
