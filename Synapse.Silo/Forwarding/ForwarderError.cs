namespace Synapse.Silo.Forwarding;

/// <summary>
/// What went wrong with a forwarded request, by stage (as YARP's <c>ForwarderError</c>). Everything the caller is
/// told — status, OpenAI error type and code, message — and whether another attempt may help, follows from it in
/// one place: <see cref="ForwarderErrors"/>.
/// </summary>
internal enum ForwarderError
{
    // Before any instance: the model's grain could not lease one.
    ModelNotFound,
    NoLiveInstance,
    QueueFull,
    QueueTimeout,
    RegistryUnavailable,

    // The instance failed before answering: another instance may serve the request.
    UpstreamUnreachable,
    AgentDraining,
    UpstreamInvalidResponse,

    /// <summary>The upstream answered 502 or 503 before anything reached the caller.</summary>
    UpstreamUnavailable,

    // The path to the instance failed before answering: the same instance may serve it over another path.
    ConnectionUnavailable,
    AgentBusy,
    AgentDisconnected,
    GatewayNodeLost,
    RelayInterrupted,

    // Not worth another attempt, or too late for one.
    UpstreamFailed,
    IdleTimeout,
    WindowExceeded,
}
