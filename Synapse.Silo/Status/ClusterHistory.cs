namespace Synapse.Silo.Status;

/// <summary>
/// <c>GET /status/history</c>: the cluster's traffic for the seconds <see cref="From"/> to <see cref="To"/> (Unix
/// seconds, both included), one array element per second, for one model or the whole cluster. Rates are summed over
/// silos; time-to-first-token percentiles come from the silos' histograms added together; the queue is the largest
/// any silo sampled (it is a cluster-wide gauge). Null means no sample: no silo was up, no call had a first token, no
/// queue reading.
/// </summary>
public sealed record ClusterHistory(
    long From,
    long To,
    string? Model,
    IReadOnlyList<string> Models,
    int Silos,
    int Answered,
    bool ModelsCapped,
    int?[] Requests,
    int?[] Errors,
    long?[] OutputTokens,
    int?[] Queue,
    double?[] TimeToFirstTokenP50Ms,
    double?[] TimeToFirstTokenP95Ms);
