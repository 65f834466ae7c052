namespace Synapse.Silo.Limits;

/// <summary>Why a call was refused: which bucket (OpenAI's error type <c>requests</c> or <c>tokens</c>), whose, and when to retry.</summary>
internal sealed record LimitRefusal(string Kind, string Owner, string Limit, TimeSpan RetryAfter);
