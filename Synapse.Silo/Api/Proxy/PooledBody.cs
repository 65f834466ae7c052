using System.Buffers;

namespace Synapse.Silo.Api.Proxy;

/// <summary>A request body read into a buffer rented from the shared pool; returned on dispose.</summary>
internal sealed class PooledBody : IDisposable
{
    private byte[]? _buffer;

    public PooledBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(PooledBody))).AsMemory(0, Length);

    public ReadOnlySpan<byte> Span => Memory.Span;

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
