using System.Buffers;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Synapse.Grains.Responses;
using Synapse.Protocol.Messages;

namespace Synapse.Tests.Unit.Grains.Interfaces.Responses;

/// <summary>
/// A response event as it crosses silos, through Orleans' own serializer (the one a silo uses, without a silo): a
/// body goes as one block of bytes, every field comes back, and a pooled buffer stays on the silo that owns it.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ResponseEventSerializationTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(ResponseEvent).Assembly))
        .BuildServiceProvider();

    private Serializer Serializer => _services.GetRequiredService<Serializer>();

    [Fact]
    public void BodyEvent_Of64KB_SerializesAsOneBlockNotByteByByte()
    {
        var body = new byte[64 * 1024];
        new Random(64).NextBytes(body);

        var bytes = Serializer.SerializeToArray(ResponseEvent.BodyOf(body));
        var read = Serializer.Deserialize<ResponseEvent>(bytes);

        // Byte by byte, each byte would carry a field header: at least twice the size.
        Assert.InRange(bytes.Length, body.Length, body.Length + 64);
        Assert.Equal(body, read.Body.ToArray());
    }

    [Fact]
    public void HeadEvent_RoundTripsEveryField()
    {
        HeaderField[] headers = [new("Content-Type", "text/event-stream"), new("X-Repeated", "1"), new("X-Repeated", "2"), new("X-Unicode", "naïve")];
        var head = ResponseEvent.Head(201, headers);

        var read = Serializer.Deserialize<ResponseEvent>(Serializer.SerializeToArray(head));

        Assert.Equal(ResponseEventKind.Head, read.Kind);
        Assert.Equal(201, read.StatusCode);
        Assert.Equal(headers, read.Headers);
        Assert.True(read.Body.IsEmpty);
        Assert.Null(read.ErrorCode);
        Assert.Null(read.ErrorMessage);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("agent_disconnected", "The agent serving this request disconnected.")]
    [InlineData("upstream_error", null)]
    public void EndEvent_RoundTripsItsErrorCodeAndMessage(string? code, string? message)
    {
        var read = Serializer.Deserialize<ResponseEvent>(Serializer.SerializeToArray(ResponseEvent.End(code, message)));

        Assert.Equal(ResponseEventKind.End, read.Kind);
        Assert.Equal(code, read.ErrorCode);
        Assert.Equal(message, read.ErrorMessage);
        Assert.Equal(code is null, read.IsSuccessfulEnd);
    }

    [Fact]
    public void EventWithEveryFieldSet_RoundTripsThemAll()
    {
        var body = "data: {\"x\":1}\n\n"u8.ToArray();
        var original = new ResponseEvent
        {
            Kind = ResponseEventKind.Body,
            StatusCode = 299,
            Headers = [new HeaderField("A", "b")],
            Body = body,
            ErrorCode = "code",
            ErrorMessage = "message",
        };

        var read = Serializer.Deserialize<ResponseEvent>(Serializer.SerializeToArray(original));

        Assert.Equal(
            (original.Kind, original.StatusCode, original.ErrorCode, original.ErrorMessage),
            (read.Kind, read.StatusCode, read.ErrorCode, read.ErrorMessage));
        Assert.Equal(original.Headers, read.Headers);
        Assert.Equal(body, read.Body.ToArray());
    }

    [Fact]
    public void PooledBodyEvent_SendsOnlyItsBytesAndNotItsBuffer()
    {
        var pooled = ArrayPool<byte>.Shared.Rent(16 * 1024);
        pooled.AsSpan().Fill((byte)'x');
        "hello"u8.CopyTo(pooled.AsSpan(100));
        var item = ResponseEvent.PooledBody(pooled, 100, 5);
        try
        {
            var bytes = Serializer.SerializeToArray(item);
            var read = Serializer.Deserialize<ResponseEvent>(bytes);

            Assert.True(bytes.Length < 64, $"{bytes.Length} bytes for a 5-byte body");
            Assert.Equal("hello"u8.ToArray(), read.Body.ToArray());
            // The copy owns no pooled buffer, so releasing it returns nothing to the pool.
            Assert.Null(PooledBufferOf(read));
            Assert.Same(pooled, PooledBufferOf(item));
        }
        finally
        {
            item.Release();
        }
    }

    public void Dispose() => _services.Dispose();

    private static byte[]? PooledBufferOf(ResponseEvent item) =>
        (byte[]?)typeof(ResponseEvent).GetField("_pooled", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(item);
}
