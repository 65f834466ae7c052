namespace Synapse.Silo.Forwarding;

internal enum AttemptOutcome
{
    /// <summary>The whole response reached the caller.</summary>
    Completed,

    /// <summary>The attempt failed; <see cref="AttemptResult.Committed"/> says whether the caller saw anything yet.</summary>
    Failed,

    /// <summary>The caller went away.</summary>
    CallerGone,
}
