namespace Synapse.Tests.Infrastructure;

/// <summary>How a <see cref="FakeEngine"/> answers <c>/metrics</c>: well, or broken in one of the ways a hostile engine could be.</summary>
public enum FakeEngineBody
{
    Good,

    /// <summary>64 KiB of random bytes.</summary>
    Garbage,

    /// <summary>The good body, then comment lines, 100 MB in all, streamed.</summary>
    Huge,

    /// <summary>The good body with the queue gauge at NaN.</summary>
    NaN,

    /// <summary>The good body with a negative running count.</summary>
    Negative,

    /// <summary>Headers and half the body, then nothing until the caller gives up.</summary>
    Stall,

    /// <summary>HTTP 500.</summary>
    ServerError,
}
