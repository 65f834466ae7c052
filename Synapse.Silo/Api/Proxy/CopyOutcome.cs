namespace Synapse.Silo.Api.Proxy;

internal enum CopyOutcome
{
    /// <summary>The whole response reached the caller.</summary>
    Completed,

    /// <summary>The upstream or its agent failed; the caller got an error (JSON, SSE event, or an aborted body).</summary>
    UpstreamFailed,

    /// <summary>
    /// The path to the instance broke (a relay stalled, a socket or silo died) before anything reached the caller,
    /// so the request can still be retried.
    /// </summary>
    PathFailedBeforeCommit,

    /// <summary>The caller went away.</summary>
    CallerGone,
}
