using System.Text.Json;
using Microsoft.Extensions.Logging;
using Synapse.Client.Hosting;
using Synapse.Protocol.Messages;

namespace Synapse.Client.Upstream;

/// <summary>
/// Keeps the upstream's model list: polled on start, every interval, and soon after a request found the upstream
/// unreachable. An upstream that is down advertises nothing, so the gateway stops routing to it instead of
/// failing every call.
/// </summary>
public sealed partial class ModelDiscovery(UpstreamClient upstream, AgentOptions options, ILogger<ModelDiscovery> logger) : IDisposable
{
    private readonly SemaphoreSlim _poke = new(0, 1);
    private IReadOnlyList<ModelAdvert> _current = [];
    private string _fingerprint = "[]";
    private bool? _upstreamUp;

    /// <summary>Raised (on the discovery loop) when the set of models or their metadata changed.</summary>
    public event Action<IReadOnlyList<ModelAdvert>>? Changed;

    public IReadOnlyList<ModelAdvert> Current => Volatile.Read(ref _current);

    /// <summary>Asks for a poll soon, for example after the upstream refused a connection.</summary>
    public void Poke()
    {
        try
        {
            _poke.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public async Task PollAsync(CancellationToken cancellationToken)
    {
        var models = await upstream.ListModelsAsync(cancellationToken);
        var up = models is not null;
        if (_upstreamUp != up)
        {
            _upstreamUp = up;
            if (up)
            {
                LogUpstreamUp(logger, upstream.BaseUrl, models!.Count);
            }
            else
            {
                LogUpstreamDown(logger, upstream.BaseUrl);
            }
        }

        models ??= [];
        var fingerprint = Fingerprint(models);
        if (fingerprint == _fingerprint)
        {
            return;
        }

        _fingerprint = fingerprint;
        Volatile.Write(ref _current, models);
        LogModels(logger, models.Count, string.Join(", ", models.Select(m => m.Id)));
        Changed?.Invoke(models);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var lastPoll = Environment.TickCount64;
        while (!cancellationToken.IsCancellationRequested)
        {
            // After a poke, wait a moment: several failing requests should cause one poll, not many.
            var poked = await _poke.WaitAsync(options.DiscoveryInterval, cancellationToken);
            if (poked)
            {
                var sinceLast = Environment.TickCount64 - lastPoll;
                if (sinceLast < 2000)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(2000 - sinceLast), cancellationToken);
                }
            }

            await PollAsync(cancellationToken);
            lastPoll = Environment.TickCount64;
        }
    }

    public void Dispose() => _poke.Dispose();

    private static string Fingerprint(IReadOnlyList<ModelAdvert> models) =>
        string.Join('\n', models.OrderBy(m => m.Id, StringComparer.Ordinal).Select(m => m.Id + "\t" + m.Metadata.GetRawText()));

    [LoggerMessage(Level = LogLevel.Information, Message = "Upstream {Upstream} is up with {Count} models")]
    private static partial void LogUpstreamUp(ILogger logger, string upstream, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Upstream} is not answering GET /v1/models; advertising no models until it does")]
    private static partial void LogUpstreamDown(ILogger logger, string upstream);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Count} models: {Models}")]
    private static partial void LogModels(ILogger logger, int count, string models);
}
