namespace Synapse.Silo.Forwarding;

/// <summary>
/// How one attempt (or the copy of its response) ended. <see cref="Committed"/> is true once anything of the response
/// reached the caller: from then on there is no other attempt, only an error event or a cut connection.
/// </summary>
internal readonly record struct AttemptResult(AttemptOutcome Outcome, Failure Failure = default, bool Committed = false)
{
    public static AttemptResult Completed => new(AttemptOutcome.Completed, Committed: true);

    public static AttemptResult CallerGone => new(AttemptOutcome.CallerGone);

    public static AttemptResult Failed(Failure failure, bool committed) => new(AttemptOutcome.Failed, failure, committed);
}
