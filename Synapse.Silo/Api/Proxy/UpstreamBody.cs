using System.Buffers;
using Microsoft.Extensions.Options;
using Synapse.Silo.Hosting;
using Synapse.Silo.Tenancy;
using Synapse.Silo.Usage;

namespace Synapse.Silo.Api.Proxy;

/// <summary>
/// The body as it goes upstream: the caller's, or a copy edited in place — the model an alias stands for
/// (<see cref="ModelNameRewriter"/>) and, for a stream, a request for usage (<see cref="IncludeUsageInjector"/>).
/// Copies are returned to the pool on dispose.
/// </summary>
internal readonly struct UpstreamBody : IDisposable
{
    private readonly PooledBody? _rewritten;

    private UpstreamBody(ReadOnlyMemory<byte> body, StreamUsageMode mode, PooledBody? rewritten)
    {
        Body = body;
        UsageMode = mode;
        _rewritten = rewritten;
    }

    public ReadOnlyMemory<byte> Body { get; }

    public StreamUsageMode UsageMode { get; }

    public static UpstreamBody Prepare(HttpContext context, PooledBody body, ModelRoute route)
    {
        PooledBody? aliased = null;
        if (route.IsAlias && ModelNameRewriter.Rewrite(body.Span, route.Model, out var aliasedLength) is { } buffer)
        {
            aliased = new PooledBody(buffer, aliasedLength);
        }

        var current = aliased ?? body;
        var path = context.Request.Path.Value ?? string.Empty;
        if (!IncludeUsageInjector.Supports(path))
        {
            return new UpstreamBody(current.Memory, StreamUsageMode.Answer, aliased);
        }

        var mode = IncludeUsageInjector.Prepare(current.Span, out var injected, out var length);
        if (injected is not null && !context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.CountStreamUsage)
        {
            // Injection is off: streams still have their usage read when the caller asked for it.
            ArrayPool<byte>.Shared.Return(injected);
            return new UpstreamBody(current.Memory, StreamUsageMode.Answer, aliased);
        }

        if (injected is null)
        {
            return new UpstreamBody(current.Memory, mode, aliased);
        }

        aliased?.Dispose();
        var rewritten = new PooledBody(injected, length);
        return new UpstreamBody(rewritten.Memory, mode, rewritten);
    }

    public void Dispose() => _rewritten?.Dispose();
}
