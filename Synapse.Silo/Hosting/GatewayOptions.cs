namespace Synapse.Silo.Hosting;

/// <summary>The HTTP front end (section <c>Synapse:Gateway</c>).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Synapse:Gateway";

    public string Host { get; set; } = "localhost";

    public int Port { get; set; } = 8080;

    /// <summary>When set, every API call must carry it as <c>Authorization: Bearer</c> or <c>X-API-Key</c>.</summary>
    public string? ApiAuthKey { get; set; }

    /// <summary>When set, agents must present it to open <c>/ws</c>.</summary>
    public string? WsAuthKey { get; set; }

    /// <summary>
    /// The agent binary served by <c>/getclient</c>, or a folder with one per platform. Unset: the source checkout's
    /// build output (see <see cref="Install.ClientBinaryLocator"/>).
    /// </summary>
    public string? ClientBinary { get; set; }

    /// <summary>Largest request body accepted; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// Time a caller has to send its request line and headers. A client trickling them (slowloris) is disconnected
    /// after it instead of holding a connection open for ever.
    /// </summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Slowest request body accepted, in bytes per second once <see cref="RequestBodyGracePeriod"/> has passed: a
    /// caller that stalls or trickles its body (or a chunked body that never ends) gets 408. Kestrel's defaults.
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a request body may start slowly before <see cref="MinRequestBodyBytesPerSecond"/> applies (more than 1 s).</summary>
    public TimeSpan RequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a request whose instance dropped before answering waits for another one (or for the same agent to
    /// reconnect) before it fails: the caller gets an answer within about this long, not the model's whole
    /// reconnect grace.
    /// </summary>
    public TimeSpan FailoverWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Instances tried per request when they fail before answering.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// How long a request that has not started keeps trying other paths to its instances (sockets gone, a silo dying,
    /// relays stalled while the cluster settles) before it fails. Waiting a few seconds beats failing.
    /// </summary>
    public TimeSpan PathRetryWindow { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Paths tried per request within <see cref="PathRetryWindow"/>.</summary>
    public int MaxPathRetries { get; set; } = 30;

    /// <summary>How long a request rides out a model registry that does not answer (its silo just died) before 503.</summary>
    public TimeSpan RegistryRetryWindow { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a silo may take to answer for its agents (model list, status) before it is left out.</summary>
    public TimeSpan SiloAnswerTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A non-streaming answer is held up to this size until it is complete, so that an agent dying midway still
    /// gives the caller a clean 502 instead of a truncated body.
    /// </summary>
    public int NonStreamingBufferBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// A response from which no byte arrives for this long is ended (504, or an SSE error event). Idle, not total:
    /// a long generation that keeps producing is never cut.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Streams of chat and completions whose caller did not ask for usage get <c>stream_options.include_usage</c> added
    /// on the way to the upstream, and the usage event taken out on the way back, so their tokens are counted exactly.
    /// Off for an upstream that refuses the option (every OpenAI-compatible server named in the README accepts it).
    /// </summary>
    public bool CountStreamUsage { get; set; } = true;

    /// <summary>While an event stream waits for its first token, an SSE comment goes out this often so proxies in between keep the connection.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>On SIGTERM, how long streams in flight may take to finish before the silo leaves.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Believe <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c> (only behind a trusted proxy).</summary>
    public bool TrustForwardedHeaders { get; set; }

    /// <summary>
    /// Browser origins allowed to open <c>/ws</c>. Agents send no Origin header; a browser always does, so by
    /// default a web page cannot make a visitor's browser attach to the gateway.
    /// </summary>
    public List<string> AllowedWebSocketOrigins { get; set; } = [];
}
