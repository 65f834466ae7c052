namespace Synapse.Grains.Limits;

/// <summary>
/// The cluster-wide limits of one API key (<c>key/&lt;name&gt;</c>) or key group (<c>group/&lt;name&gt;</c>): requests
/// and tokens per minute as token buckets, requests in flight as slots. Silos take permits and slots in small
/// leases and give back what they did not use, so most calls are admitted without leaving their silo. State is in
/// memory: a limiter that moves (its silo died) starts full, which errs on the side of serving.
/// </summary>
[Alias("synapse.ILimiterGrain")]
public interface ILimiterGrain : IGrainWithStringKey
{
    /// <summary>Up to <paramref name="want"/> request permits, as many as the bucket holds now (0 when empty).</summary>
    [Alias("TakeRequests")]
    Task<RequestGrant> TakeRequests(int want, LimitSettings settings);

    /// <summary>Permits a silo took and did not use (they expired there): back into the bucket.</summary>
    [Alias("ReturnRequests")]
    Task ReturnRequests(int count, LimitSettings settings);

    /// <summary>Tokens spent by calls that ended; the bucket may go below zero, and then admits nothing until it refills.</summary>
    [Alias("SpendTokens")]
    Task<LimitWindow> SpendTokens(long tokens, LimitSettings settings);

    /// <summary>Up to <paramref name="want"/> slots for requests in flight, for silo <paramref name="silo"/>; 0 when all are taken.</summary>
    [Alias("TakeSlots")]
    Task<int> TakeSlots(string silo, int want, LimitSettings settings);

    /// <summary>
    /// How many slots <paramref name="silo"/> holds now, said every few seconds: slots a silo gave back are free again,
    /// and the slots of a silo not heard from for a while (it died) are freed with it.
    /// </summary>
    [Alias("HoldSlots")]
    Task HoldSlots(string silo, int held);
}
