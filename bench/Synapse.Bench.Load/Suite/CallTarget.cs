namespace Synapse.Bench.Load.Suite;

/// <summary>
/// One path a phase measures: the server its callers talk to and the API key they send (none for the direct path and
/// for gateways started without keys). Two paths may share a URL and differ only by key (the limits phase).
/// </summary>
internal sealed record CallTarget(string Path, Uri Url, string? ApiKey = null);
