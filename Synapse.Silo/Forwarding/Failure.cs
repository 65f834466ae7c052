namespace Synapse.Silo.Forwarding;

/// <summary>One failure of a forwarded request, with what the agent or the grain said about it.</summary>
/// <param name="Detail">The agent's or upstream's own words (sanitised before a caller sees them).</param>
/// <param name="RetryAfterSeconds">For 429 and 503: when trying again makes sense.</param>
internal readonly record struct Failure(ForwarderError Error, string? Detail = null, int RetryAfterSeconds = 0);
