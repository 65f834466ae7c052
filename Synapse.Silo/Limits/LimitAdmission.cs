using Synapse.Grains.Limits;

namespace Synapse.Silo.Limits;

/// <summary>
/// The outcome of <see cref="LimitGate.AdmitAsync"/>: refused (and why), or admitted, and then ended once with the
/// tokens the call spent so its slot and tokens are counted.
/// </summary>
internal sealed class LimitAdmission
{
    public static readonly LimitAdmission Unlimited = new(null, [], null);

    private readonly (LocalLimiter Limiter, LimitSettings Settings)[] _admitted;
    private int _ended;

    public LimitAdmission(LimitRefusal? refusal, (LocalLimiter Limiter, LimitSettings Settings)[] admitted, LocalLimiter? shown)
    {
        Refusal = refusal;
        _admitted = admitted;
        Shown = shown;
    }

    public LimitRefusal? Refusal { get; }

    public bool Allowed => Refusal is null;

    /// <summary>The limiter whose windows the rate-limit headers show (the key's when it has limits, else the group's).</summary>
    public LocalLimiter? Shown { get; }

    public void Ended(long tokens)
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            foreach (var (limiter, settings) in _admitted)
            {
                limiter.Ended(settings, tokens);
            }
        }
    }

    public void ApplyHeaders(IHeaderDictionary headers)
    {
        if (Shown is null)
        {
            return;
        }

        LimitHeaders.Apply(headers, "requests", Shown.RequestWindow);
        LimitHeaders.Apply(headers, "tokens", Shown.TokenWindow);
    }
}
