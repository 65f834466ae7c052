using Microsoft.Extensions.Options;
using Synapse.Silo.Api.Proxy;
using Synapse.Silo.Hosting;

namespace Synapse.Silo.Usage;

/// <summary>The body as it goes upstream: the caller's, or a copy that also asks for usage (returned on dispose).</summary>
internal readonly struct CountedBody : IDisposable
{
    private readonly PooledBody? _rewritten;

    private CountedBody(ReadOnlyMemory<byte> body, StreamUsageMode mode, PooledBody? rewritten)
    {
        Body = body;
        Mode = mode;
        _rewritten = rewritten;
    }

    public ReadOnlyMemory<byte> Body { get; }

    public StreamUsageMode Mode { get; }

    public static CountedBody Prepare(HttpContext context, PooledBody body)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (!IncludeUsageInjector.Supports(path))
        {
            return new CountedBody(body.Memory, StreamUsageMode.Answer, null);
        }

        if (!context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.CountStreamUsage)
        {
            // Streams still have their usage read when the caller asked for it.
            var mode = IncludeUsageInjector.Prepare(body.Span, out var unused, out _);
            if (unused is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(unused);
            }

            return new CountedBody(body.Memory, mode == StreamUsageMode.Injected ? StreamUsageMode.Answer : mode, null);
        }

        var prepared = IncludeUsageInjector.Prepare(body.Span, out var buffer, out var length);
        var rewritten = buffer is null ? null : new PooledBody(buffer, length);
        return new CountedBody(rewritten?.Memory ?? body.Memory, prepared, rewritten);
    }

    public void Dispose() => _rewritten?.Dispose();
}
