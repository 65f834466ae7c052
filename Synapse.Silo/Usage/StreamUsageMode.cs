namespace Synapse.Silo.Usage;

/// <summary>How a call's token usage reaches the gateway.</summary>
public enum StreamUsageMode
{
    /// <summary>A JSON answer: its <c>usage</c> object is read when it ends.</summary>
    Answer,

    /// <summary>A stream whose caller asked for usage itself: the usage event passes through and is read on the way.</summary>
    CallerAsked,

    /// <summary>
    /// A stream the gateway asked usage for (<c>stream_options.include_usage</c> added to the upstream request): the
    /// usage event, and the <c>"usage":null</c> other events then carry, are taken out of what the caller receives.
    /// </summary>
    Injected,
}
