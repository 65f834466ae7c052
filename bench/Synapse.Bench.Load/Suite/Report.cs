using System.Globalization;
using Synapse.Bench.Load.Load;

namespace Synapse.Bench.Load.Suite;

/// <summary>One-line summaries of a load run.</summary>
internal static class Report
{
    public static string Describe(LoadResult r)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{r.Spec.Describe(),-34} {r.RequestsPerSecond,9:0.0} req/s  p50 {r.LatencyP50Ms,8:0.000} ms  p99 {r.LatencyP99Ms,8:0.000} ms");
        if (r.Spec.Stream)
        {
            text += string.Create(CultureInfo.InvariantCulture, $"  ttft p50 {r.TtftP50Ms,7:0.000} p99 {r.TtftP99Ms,7:0.000} ms  gap {r.GapMeanMs,6:0.000} ms");
        }

        text += $"  errors {r.Errors}";
        if (r.ErrorKinds.Count > 0)
        {
            text += " (" + string.Join(", ", r.ErrorKinds.Select(e => $"{e.Key}: {e.Value}")) + ")";
        }

        return text;
    }
}
