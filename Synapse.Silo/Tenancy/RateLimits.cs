namespace Synapse.Silo.Tenancy;

/// <summary>
/// <c>limits:</c> of a group or key: requests per minute, tokens per minute (prompt and completion) and requests in
/// flight. Null means no limit of that kind. A key's limits and its group's both apply.
/// </summary>
public sealed record RateLimits(int? RequestsPerMinute, long? TokensPerMinute, int? MaxParallel)
{
    public bool IsEmpty => RequestsPerMinute is null && TokensPerMinute is null && MaxParallel is null;
}
