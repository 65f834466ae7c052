namespace Synapse.Silo.Forwarding;

/// <summary>Whether a failure before the answer is worth another attempt, and where.</summary>
internal enum RetryKind
{
    None,

    /// <summary>The instance failed: try another instance.</summary>
    Instance,

    /// <summary>The path to it failed (a socket, a silo, a relay): the same instance may serve it another way.</summary>
    Path,
}
