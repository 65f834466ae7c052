using System.Globalization;
using Synapse.Grains.Limits;

namespace Synapse.Silo.Limits;

/// <summary>
/// OpenAI's rate-limit headers (<c>x-ratelimit-limit-requests</c>, <c>-remaining-</c>, <c>-reset-</c>, and the
/// <c>-tokens</c> trio), so the OpenAI SDKs' own retry logic works unchanged.
/// </summary>
internal static class LimitHeaders
{
    public static void Apply(IHeaderDictionary headers, string kind, LimitWindow window)
    {
        if (window.Limit <= 0)
        {
            return;
        }

        headers[$"x-ratelimit-limit-{kind}"] = window.Limit.ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-remaining-{kind}"] = ((long)Math.Floor(window.Remaining)).ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-reset-{kind}"] = Format(window.ResetIn);
    }

    /// <summary>As OpenAI writes durations: <c>20ms</c>, <c>1s</c>, <c>1.5s</c>, <c>6m0s</c>.</summary>
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.FromSeconds(1))
        {
            return $"{Math.Max(0, (int)Math.Ceiling(span.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture)}ms";
        }

        var seconds = Math.Round(span.TotalSeconds % 60, 3).ToString("0.###", CultureInfo.InvariantCulture);
        return span < TimeSpan.FromMinutes(1) ? $"{seconds}s" : $"{((int)span.TotalMinutes).ToString(CultureInfo.InvariantCulture)}m{seconds}s";
    }
}
