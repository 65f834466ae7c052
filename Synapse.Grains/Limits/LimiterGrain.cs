namespace Synapse.Grains.Limits;

/// <inheritdoc cref="ILimiterGrain"/>
internal sealed class LimiterGrain(TimeProvider time) : Grain, ILimiterGrain
{
    private TokenBucket? _requests;
    private TokenBucket? _tokens;
    /// <summary>After this long without word from a silo, its slots are freed (it is gone).</summary>
    private static readonly TimeSpan SlotLease = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, (int Held, long SeenTicks)> _slots = new(StringComparer.Ordinal);

    private long Now => time.GetUtcNow().UtcTicks;

    public Task<RequestGrant> TakeRequests(int want, LimitSettings settings)
    {
        if (Requests(settings) is not { } bucket)
        {
            return Task.FromResult(new RequestGrant(want, default));
        }

        var granted = bucket.Take(want, Now);
        return Task.FromResult(new RequestGrant(granted, bucket.Window(Now)));
    }

    public Task ReturnRequests(int count, LimitSettings settings)
    {
        Requests(settings)?.Put(count, Now);
        return Task.CompletedTask;
    }

    public Task<LimitWindow> SpendTokens(long tokens, LimitSettings settings)
    {
        if (Tokens(settings) is not { } bucket)
        {
            return Task.FromResult(default(LimitWindow));
        }

        bucket.Spend(tokens, Now);
        return Task.FromResult(bucket.Window(Now));
    }

    public Task<int> TakeSlots(string silo, int want, LimitSettings settings)
    {
        if (settings.MaxParallel is not { } max)
        {
            return Task.FromResult(want);
        }

        var now = Now;
        var taken = 0;
        foreach (var (other, (held, seen)) in _slots.ToArray())
        {
            if (now - seen > SlotLease.Ticks)
            {
                _slots.Remove(other);
                continue;
            }

            taken += held;
        }

        var granted = Math.Max(0, Math.Min(want, max - taken));
        var mine = _slots.GetValueOrDefault(silo).Held;
        _slots[silo] = (mine + granted, now);
        return Task.FromResult(granted);
    }

    public Task HoldSlots(string silo, int held)
    {
        if (held <= 0)
        {
            _slots.Remove(silo);
        }
        else
        {
            _slots[silo] = (held, Now);
        }

        return Task.CompletedTask;
    }

    private TokenBucket? Requests(LimitSettings settings) => Bucket(ref _requests, settings.RequestsPerMinute);

    private TokenBucket? Tokens(LimitSettings settings) => Bucket(ref _tokens, settings.TokensPerMinute);

    private TokenBucket? Bucket(ref TokenBucket? bucket, long? perMinute)
    {
        if (perMinute is not { } limit)
        {
            bucket = null;
            return null;
        }

        if (bucket is null)
        {
            bucket = new TokenBucket(limit, Now);
        }
        else
        {
            bucket.Resize(limit);
        }

        return bucket;
    }
}
