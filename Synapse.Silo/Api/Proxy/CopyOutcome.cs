namespace Synapse.Silo.Api.Proxy;

internal enum CopyOutcome
{
    /// <summary>The whole response reached the caller.</summary>
    Completed,

    /// <summary>The upstream or its agent failed; the caller got an error (JSON, SSE event, or an aborted body).</summary>
    UpstreamFailed,

    /// <summary>The caller went away.</summary>
    CallerGone,
}
