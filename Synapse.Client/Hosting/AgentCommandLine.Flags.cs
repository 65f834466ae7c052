using System.CommandLine;

namespace Synapse.Client.Hosting;

/// <summary>The agent's flags, in the order help lists them.</summary>
public static partial class AgentCommandLine
{
    private sealed class Flags
    {
        public Option<string> Upstream { get; } = new("--upstream", "--base-url")
        {
            Description = "URL of the upstream OpenAI-compatible server, with or without /v1 (default: http://localhost:8081) [env: SYNAPSE_UPSTREAM, then OPENAI_BASE_URL]",
            HelpName = "url",
        };

        public Option<string[]> ServerUrl { get; } = new("--server-url")
        {
            Description = "WebSocket URL of the Synapse gateway; comma-separate several; the last one given wins (default: ws://localhost:8080/ws) [env: SYNAPSE_SERVER_URL]",
            AllowMultipleArgumentsPerToken = false,
            HelpName = "url",
        };

        public Option<string> WsKey { get; } = Text("--ws-auth-key", "Key the gateway expects from agents");
        public Option<string> WsKeyFile { get; } = Text("--ws-auth-key-file", "Read the WebSocket key from this file");

        public Option<string> UpstreamKey { get; } = new("--upstream-api-key", "--api-key")
        {
            Description = "Bearer key for the upstream server (never sent anywhere else) [env: SYNAPSE_UPSTREAM_API_KEY, then OPENAI_API_KEY]",
            HelpName = "value",
        };

        public Option<string> UpstreamKeyFile { get; } = Text("--upstream-api-key-file", "Read the upstream key from this file");
        public Option<string> MaxConcurrency { get; } = Text("--max-concurrency", "Requests per model the upstream takes at once (default: 64)");
        public Option<string> Name { get; } = Text("--name", "Name shown on the gateway's status page (default: host name)");
        public Option<string> AgentId { get; } = Text("--agent-id", "Stable agent id (default: derived from host, upstream and name)");
        public Option<string> Connections { get; } = Text("--connections", "Sockets to distinct gateway silos when it has several (default: 2)");
        public Option<string> Discovery { get; } = Text("--discovery-interval", "Seconds between polls of the upstream's /v1/models (default: 30)");
        public Option<string> EngineMetrics { get; } = Text("--engine-metrics-interval", "Seconds between readings of the engine's load (vLLM, SGLang, llama.cpp /metrics) sent to the gateway; 0 turns it off (default: 0.5)");
        public Option<string> Drain { get; } = Text("--drain-timeout", "Seconds to finish requests on SIGTERM (default: 30)");
        public Option<string> LogLevel { get; } = Text("--log-level", "trace, debug, information, warning or error (default: information)");

        public Option<bool> SelfUpdate { get; } = new("--self-update")
        {
            Description = "Replace this binary with the gateway's when the gateway refuses its protocol (set by the /run installer) [env: SYNAPSE_SELF_UPDATE]",
        };

        public Option<bool> ProtocolVersion { get; } = new("--protocol-version") { Description = "Print the agent protocol version and exit", Hidden = true };
    }
}
