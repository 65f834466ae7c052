using System.Collections.Concurrent;
using Synapse.Grains.Limits;
using Synapse.Grains.Usage;
using Synapse.Silo.Tenancy;

namespace Synapse.Silo.Limits;

/// <summary>
/// Admits calls under their key's and their group's limits (both apply), cluster-wide through one limiter grain
/// each, with this silo's leases in front of it (<see cref="LocalLimiter"/>).
/// </summary>
internal sealed class LimitGate(IGrainFactory grains, ILocalSiloDetails silo)
{
    private readonly ConcurrentDictionary<string, LocalLimiter> _limiters = new(StringComparer.Ordinal);
    private readonly string _silo = silo.SiloAddress.ToParsableString();

    public IEnumerable<LocalLimiter> Limiters => _limiters.Values;

    public async ValueTask<LimitAdmission> AdmitAsync(CallerIdentity caller, CancellationToken cancellationToken)
    {
        var keyLimits = caller.Limits is { IsEmpty: false } k ? Settings(k) : null;
        var groupLimits = caller.Group?.Limits is { IsEmpty: false } g ? Settings(g) : null;
        if (keyLimits is null && groupLimits is null)
        {
            return LimitAdmission.Unlimited;
        }

        var admitted = new List<(LocalLimiter, LimitSettings)>(2);
        LocalLimiter? shown = null;
        foreach (var (key, owner, settings) in new[]
        {
            (UsageKey.ForKey(caller.KeyName), caller.KeyName, keyLimits),
            (UsageKey.ForGroup(caller.Group?.Name ?? string.Empty), $"group {caller.Group?.Name}", groupLimits),
        })
        {
            if (settings is null)
            {
                continue;
            }

            var limiter = _limiters.GetOrAdd(key, (k, o) => new LocalLimiter(o, grains.GetGrain<ILimiterGrain>(k), _silo), owner);
            shown ??= limiter;
            if (await limiter.AdmitAsync(settings, cancellationToken) is { } refusal)
            {
                foreach (var (earlier, earlierSettings) in admitted)
                {
                    earlier.Undo(earlierSettings);
                }

                return new LimitAdmission(refusal, [], shown);
            }

            admitted.Add((limiter, settings));
        }

        return new LimitAdmission(null, [.. admitted], shown);
    }

    /// <summary>Drops limiters unused for a while (a removed key, a quiet one): their state lives in the grain.</summary>
    public void Forget(long idleMs)
    {
        var now = Environment.TickCount64;
        foreach (var (key, limiter) in _limiters)
        {
            if (now - limiter.LastUsed > idleMs && _limiters.TryRemove(key, out _))
            {
                limiter.Dispose();
            }
        }
    }

    private static LimitSettings Settings(RateLimits limits) => new()
    {
        RequestsPerMinute = limits.RequestsPerMinute,
        TokensPerMinute = limits.TokensPerMinute,
        MaxParallel = limits.MaxParallel,
    };
}
