using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Synapse.Grains.Observability;

namespace Synapse.Silo.Observability.History;

/// <summary>
/// This silo's traffic over the last 15 minutes, per model and in total, second by second: what the status page's
/// charts draw. Each finished call is counted once (<see cref="Record"/>, from the call's telemetry); the
/// <see cref="HistorySampler"/> seals every second and samples the queue.
/// </summary>
public sealed class RequestHistory(IOptions<HistoryOptions> options, TimeProvider time) : ILocalHistory
{
    private readonly ConcurrentDictionary<string, HistoryRing> _models = new(StringComparer.Ordinal);
    private readonly HistoryRing _total = new(time.GetUtcNow().ToUnixTimeSeconds());

    // Each key group's own total (its callers' "whole cluster"); groups come from the config, so they are few.
    private readonly ConcurrentDictionary<string, HistoryRing> _groups = new(StringComparer.Ordinal);
    private readonly int _maxModels = options.Value.MaxModels;
    private readonly long _startedAt = time.GetUtcNow().ToUnixTimeSeconds();
    private int _modelCount;
    private long _cappedAt = long.MinValue;

    // Seconds before the silo started are never sealed: they read as unknown (-1), not as seconds without calls.
    private long _sealedThrough = time.GetUtcNow().ToUnixTimeSeconds() - 1;

    /// <summary>The last second sealed: what a read returns at most.</summary>
    public long SealedThrough => Volatile.Read(ref _sealedThrough);

    /// <summary>Counts one finished call. Lock-free; allocates only the first time a model is seen.</summary>
    /// <param name="group">The caller's key group: each group also has a total of its own, its callers' "whole cluster".</param>
    /// <param name="modelKey">The model's key in the history, made once per call by the caller (see <see cref="KeyOf"/>).</param>
    /// <param name="timeToFirstTokenSeconds">Negative when the call sent nothing.</param>
    /// <param name="outputTokens">Negative when the upstream reported no usage.</param>
    public void Record(string group, string modelKey, bool failed, double timeToFirstTokenSeconds, long outputTokens)
    {
        var second = time.GetUtcNow().ToUnixTimeSeconds();
        var bucket = timeToFirstTokenSeconds >= 0 ? LatencyBuckets.Of(timeToFirstTokenSeconds * 1000) : -1;
        _total.Record(second, failed, bucket, outputTokens);
        Find(modelKey, second)?.Record(second, failed, bucket, outputTokens);
        _groups.GetOrAdd(group, static (_, s) => new HistoryRing(s), second).Record(second, failed, bucket, outputTokens);
    }

    /// <summary>A model's key: the same name in two groups is two histories.</summary>
    public static string KeyOf(string group, string model) => Synapse.Grains.Models.ModelKey.For(group, model);

    /// <summary>The key of a group's own total (a key no model has: the model part is empty).</summary>
    public static string GroupTotalKey(string group) => Synapse.Grains.Models.ModelKey.For(group, string.Empty);

    /// <summary>
    /// Seals every second before <paramref name="now"/> not sealed yet, with the queue per model as the status cache
    /// last saw it (null: no recent sample), and drops models idle for the whole window.
    /// </summary>
    public void Seal(long now, IReadOnlyDictionary<string, int>? queues)
    {
        if (queues is not null)
        {
            foreach (var (model, queued) in queues)
            {
                if (queued > 0)
                {
                    Find(model, now);
                }
            }
        }

        var last = now - 1;
        var first = Math.Max(Volatile.Read(ref _sealedThrough) + 1, last - HistoryRing.Seconds + 1);
        var totalQueue = queues?.Values.Sum() ?? -1;
        for (var second = first; second <= last; second++)
        {
            _total.Seal(second, totalQueue);
            foreach (var (group, ring) in _groups)
            {
                var prefix = GroupTotalKey(group);
                ring.Seal(second, queues is null ? -1 : queues.Where(q => q.Key.StartsWith(prefix, StringComparison.Ordinal)).Sum(q => q.Value));
            }

            foreach (var (model, ring) in _models)
            {
                ring.Seal(second, queues is null ? -1 : queues.GetValueOrDefault(model));
            }
        }

        Volatile.Write(ref _sealedThrough, Math.Max(last, Volatile.Read(ref _sealedThrough)));
        foreach (var (model, ring) in _models)
        {
            // A call that found the ring just before it goes is lost to the model's chart, never to the total.
            if (ring.LastActive < now - HistoryRing.Seconds && _models.TryRemove(model, out _))
            {
                Interlocked.Decrement(ref _modelCount);
            }
        }
    }

    public SiloHistory Read(long since, string? model)
    {
        var to = SealedThrough;
        var from = Math.Max(since + 1, to - HistoryRing.Seconds + 1);
        var length = (int)Math.Max(0, to - from + 1);
        var requests = new int[length];
        var errors = new int[length];
        var tokens = new int[length];
        var queue = new int[length];
        var timeToFirstToken = new List<uint>();
        var ring = model is null ? _total
            : model.EndsWith('/') ? _groups.GetValueOrDefault(model[..^1])
            : _models.GetValueOrDefault(model);
        if (ring is not null)
        {
            ring.CopyTo(from, requests, errors, tokens, queue, timeToFirstToken);
        }
        else
        {
            requests.AsSpan().Fill(-1);
            queue.AsSpan().Fill(-1);
        }

        // A model this silo tracked from some second on (or not at all) had no calls here before: known zeros, from
        // the silo's start. Its queue was not sampled then, and stays unknown.
        for (var offset = 0; offset < length; offset++)
        {
            if (requests[offset] < 0 && from + offset >= _startedAt)
            {
                requests[offset] = errors[offset] = tokens[offset] = 0;
            }
            else if (requests[offset] < 0)
            {
                errors[offset] = tokens[offset] = -1;
            }
        }

        return new SiloHistory
        {
            From = from,
            To = from + length - 1,
            Models = [.. _models.Keys.Order(StringComparer.Ordinal)],
            ModelsCapped = Volatile.Read(ref _cappedAt) > to - HistoryRing.Seconds,
            Requests = requests,
            Errors = errors,
            OutputTokens = tokens,
            Queue = queue,
            TimeToFirstToken = [.. timeToFirstToken],
        };
    }

    private HistoryRing? Find(string model, long second)
    {
        if (_models.TryGetValue(model, out var ring))
        {
            return ring;
        }

        if (Volatile.Read(ref _modelCount) >= _maxModels)
        {
            Volatile.Write(ref _cappedAt, second);
            return null;
        }

        var fresh = new HistoryRing(second);
        if (_models.TryAdd(model, fresh))
        {
            Interlocked.Increment(ref _modelCount);
            return fresh;
        }

        return _models.GetValueOrDefault(model);
    }
}
