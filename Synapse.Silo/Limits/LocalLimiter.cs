using Synapse.Grains.Limits;

namespace Synapse.Silo.Limits;

/// <summary>
/// This silo's side of one key's or group's limits: request permits taken from the limiter grain in small leases
/// (0.1 s of the rate at a time, handed back if unused within a second), slots for calls in flight taken a few at a
/// time and kept while calls keep coming (handed back after a quarter of a second unused), and the token bucket's
/// last known level, refreshed as this silo spends. A call on a silo holding a permit and a slot
/// is admitted without leaving the silo.
/// </summary>
internal sealed class LocalLimiter(string owner, ILimiterGrain grain, string silo) : IDisposable
{
    private const long PermitLifetimeMs = 1000;
    private const long IdleSlotMs = 250;

    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _asking = new(1, 1);
    private LimitSettings _settings = new();
    private int _permits;
    private long _permitsExpireAt;
    private long _requestsBlockedUntil;
    private LimitWindow _requestWindow;
    private int _heldSlots;
    private int _idleSlots;
    private long _unspentTokens;
    private long _tokensBlockedUntil;
    private LimitWindow _tokenWindow;
    private long _lastUsed = Environment.TickCount64;
    private long _lastSlotRenewal;
    private long _lastSlotUse;

    public string Owner => owner;

    public long LastUsed => Volatile.Read(ref _lastUsed);

    public LimitWindow RequestWindow
    {
        get
        {
            lock (_lock)
            {
                return _requestWindow with { Remaining = _requestWindow.Remaining + _permits };
            }
        }
    }

    public LimitWindow TokenWindow
    {
        get
        {
            lock (_lock)
            {
                return _tokenWindow;
            }
        }
    }

    /// <summary>Admits one call (null) or says why not; an admitted call must be ended with <see cref="Ended"/>.</summary>
    public async ValueTask<LimitRefusal?> AdmitAsync(LimitSettings settings, CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        Volatile.Write(ref _lastUsed, now);
        lock (_lock)
        {
            _settings = settings;
            if (settings.TokensPerMinute is { } tpm && now < _tokensBlockedUntil)
            {
                return new LimitRefusal("tokens", owner, $"{tpm} tokens per minute", TimeSpan.FromMilliseconds(_tokensBlockedUntil - now));
            }
        }

        if (settings.RequestsPerMinute is { } rpm && await TakePermitAsync(rpm, settings, cancellationToken) is { } refused)
        {
            return refused;
        }

        if (settings.MaxParallel is { } max && !await TakeSlotAsync(settings))
        {
            GiveBackPermit(settings);
            return new LimitRefusal("requests", owner, $"{max} requests in flight", TimeSpan.FromSeconds(1));
        }

        return null;
    }

    /// <summary>Takes back the admission of a call the other limiter refused.</summary>
    public void Undo(LimitSettings settings)
    {
        GiveBackPermit(settings);
        Ended(settings, tokens: 0);
    }

    /// <summary>An admitted call ended, having spent <paramref name="tokens"/> (prompt and completion).</summary>
    public void Ended(LimitSettings settings, long tokens)
    {
        lock (_lock)
        {
            if (settings.MaxParallel is not null && _heldSlots > _idleSlots)
            {
                // The slot stays here for the next call; the sweep hands back slots nobody took for a while.
                _idleSlots++;
                _lastSlotUse = Environment.TickCount64;
            }

            if (settings.TokensPerMinute is not null && tokens > 0)
            {
                _unspentTokens += tokens;
            }
        }
    }

    /// <summary>
    /// Every few hundred milliseconds: expired permits go back, spent tokens are charged (and the bucket's level
    /// learnt, so calls here stop while other silos emptied it), held slots are renewed.
    /// </summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        int expired;
        long tokens;
        LimitSettings settings;
        bool renewSlots;
        int held;
        lock (_lock)
        {
            settings = _settings;
            expired = _permits > 0 && now >= _permitsExpireAt ? _permits : 0;
            _permits -= expired;
            tokens = _unspentTokens;
            _unspentTokens = 0;
            if (_idleSlots > 0 && now - _lastSlotUse > IdleSlotMs)
            {
                // Nobody here wanted them lately: other silos may.
                _heldSlots -= _idleSlots;
                _idleSlots = 0;
                _lastSlotRenewal = 0;
            }

            held = _heldSlots;
            renewSlots = settings.MaxParallel is not null && (held > 0 || _lastSlotRenewal == 0) && now - _lastSlotRenewal > 2000;
            if (renewSlots)
            {
                _lastSlotRenewal = now;
            }
        }

        if (expired > 0)
        {
            await grain.ReturnRequests(expired, settings).WaitAsync(cancellationToken);
        }

        if (settings.TokensPerMinute is not null && (tokens > 0 || now - LastUsed < 5000))
        {
            var window = await grain.SpendTokens(tokens, settings).WaitAsync(cancellationToken);
            lock (_lock)
            {
                _tokenWindow = window;
                _tokensBlockedUntil = window.RetryAfter > TimeSpan.Zero ? now + (long)window.RetryAfter.TotalMilliseconds : 0;
            }
        }

        if (renewSlots)
        {
            await grain.HoldSlots(silo, held).WaitAsync(cancellationToken);
        }
    }

    private async ValueTask<LimitRefusal?> TakePermitAsync(int rpm, LimitSettings settings, CancellationToken cancellationToken)
    {
        if (TryTakeLocalPermit(rpm, out var blocked))
        {
            return null;
        }

        if (blocked is not null)
        {
            return blocked;
        }

        await _asking.WaitAsync(cancellationToken);
        try
        {
            // Another call may have fetched permits while this one waited.
            if (TryTakeLocalPermit(rpm, out blocked))
            {
                return null;
            }

            if (blocked is not null)
            {
                return blocked;
            }

            var grant = await grain.TakeRequests(Math.Max(1, rpm / 600), settings).WaitAsync(cancellationToken);
            var now = Environment.TickCount64;
            lock (_lock)
            {
                _requestWindow = grant.Window;
                if (grant.Granted == 0)
                {
                    var wait = Math.Max(1, (long)Math.Ceiling(grant.Window.RetryAfter.TotalMilliseconds));
                    _requestsBlockedUntil = now + wait;
                    return new LimitRefusal("requests", owner, $"{rpm} requests per minute", TimeSpan.FromMilliseconds(wait));
                }

                _permits += grant.Granted - 1;
                _permitsExpireAt = now + PermitLifetimeMs;
                return null;
            }
        }
        finally
        {
            _asking.Release();
        }
    }

    private bool TryTakeLocalPermit(int rpm, out LimitRefusal? blocked)
    {
        blocked = null;
        var now = Environment.TickCount64;
        lock (_lock)
        {
            if (_permits > 0)
            {
                _permits--;
                return true;
            }

            if (now < _requestsBlockedUntil)
            {
                blocked = new LimitRefusal("requests", owner, $"{rpm} requests per minute", TimeSpan.FromMilliseconds(_requestsBlockedUntil - now));
            }

            return false;
        }
    }

    private void GiveBackPermit(LimitSettings settings)
    {
        if (settings.RequestsPerMinute is null)
        {
            return;
        }

        lock (_lock)
        {
            _permits++;
            _permitsExpireAt = Math.Max(_permitsExpireAt, Environment.TickCount64 + PermitLifetimeMs);
        }
    }

    private async ValueTask<bool> TakeSlotAsync(LimitSettings settings)
    {
        lock (_lock)
        {
            if (_idleSlots > 0)
            {
                _idleSlots--;
                _lastSlotUse = Environment.TickCount64;
                return true;
            }
        }

        int want;
        lock (_lock)
        {
            // A quarter of the calls in flight here, at most 16: a busy silo asks the grain rarely, an idle one for one.
            want = Math.Clamp((_heldSlots - _idleSlots) / 4, 1, 16);
        }

        var granted = await grain.TakeSlots(silo, want, settings);
        lock (_lock)
        {
            _heldSlots += granted;
            _idleSlots += Math.Max(0, granted - 1);
            _lastSlotRenewal = Environment.TickCount64;
            _lastSlotUse = _lastSlotRenewal;
        }

        return granted > 0;
    }

    /// <summary>Only once unused for minutes (<see cref="LimitGate.Forget"/>): no call waits on it then.</summary>
    public void Dispose() => _asking.Dispose();
}
