using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Synapse.Protocol;

namespace Synapse.Client.Hosting;

/// <summary>
/// The agent's command line. Every flag can also come from the environment (so keys need not show in
/// <c>ps</c>); a flag on the command line wins. The Go client's names work too (<c>--base-url</c>,
/// <c>--api-key</c>, and <c>OPENAI_BASE_URL</c>/<c>OPENAI_API_KEY</c> after the <c>SYNAPSE_*</c> variables), so a
/// one-line install written for the Go server runs unchanged.
/// </summary>
public static class AgentCommandLine
{
    /// <param name="environment">Where environment variables are read (the process's by default; tests pass their own).</param>
    public static Task<int> InvokeAsync(string[] args, Func<AgentOptions, LogLevel, Task<int>> run, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var upstream = new Option<string>("--upstream", "--base-url")
        {
            Description = "URL of the upstream OpenAI-compatible server, with or without /v1 (default: http://localhost:8081) [env: SYNAPSE_UPSTREAM, then OPENAI_BASE_URL]",
            HelpName = "url",
        };
        var serverUrl = new Option<string[]>("--server-url")
        {
            Description = "WebSocket URL of the Synapse gateway; comma-separate several; the last one given wins (default: ws://localhost:8080/ws) [env: SYNAPSE_SERVER_URL]",
            AllowMultipleArgumentsPerToken = false,
            HelpName = "url",
        };
        var wsKey = Text("--ws-auth-key", "Key the gateway expects from agents");
        var wsKeyFile = Text("--ws-auth-key-file", "Read the WebSocket key from this file");
        var upstreamKey = new Option<string>("--upstream-api-key", "--api-key")
        {
            Description = "Bearer key for the upstream server (never sent anywhere else) [env: SYNAPSE_UPSTREAM_API_KEY, then OPENAI_API_KEY]",
            HelpName = "value",
        };
        var upstreamKeyFile = Text("--upstream-api-key-file", "Read the upstream key from this file");
        var maxConcurrency = Text("--max-concurrency", "Requests per model the upstream takes at once (default: 64)");
        var name = Text("--name", "Name shown on the gateway's status page (default: host name)");
        var agentId = Text("--agent-id", "Stable agent id (default: derived from host, upstream and name)");
        var connections = Text("--connections", "Sockets to distinct gateway silos when it has several (default: 2)");
        var discovery = Text("--discovery-interval", "Seconds between polls of the upstream's /v1/models (default: 30)");
        var engineMetrics = Text("--engine-metrics-interval", "Seconds between readings of the engine's load (vLLM, SGLang, llama.cpp /metrics) sent to the gateway; 0 turns it off (default: 0.5)");
        var drain = Text("--drain-timeout", "Seconds to finish requests on SIGTERM (default: 30)");
        var logLevel = Text("--log-level", "trace, debug, information, warning or error (default: information)");
        var selfUpdate = new Option<bool>("--self-update")
        {
            Description = "Replace this binary with the gateway's when the gateway refuses its protocol (set by the /run installer) [env: SYNAPSE_SELF_UPDATE]",
        };
        var protocolVersion = new Option<bool>("--protocol-version") { Description = "Print the agent protocol version and exit", Hidden = true };

        var root = new RootCommand("Synapse agent: attaches an OpenAI-compatible LLM server to a Synapse gateway by dialling out.")
        {
            upstream, serverUrl, wsKey, wsKeyFile, upstreamKey, upstreamKeyFile, maxConcurrency, name, agentId, connections, discovery, engineMetrics, drain, logLevel, selfUpdate, protocolVersion,
        };

        root.SetAction(async parseResult =>
        {
            // A flag (under any of its names) wins; then the first variable that is set, in the order given.
            string? Value(Option<string> option, params string[] variables) =>
                parseResult.GetResult(option) is { Implicit: false }
                    ? parseResult.GetValue(option)
                    : variables.Select(environment).FirstOrDefault(v => !string.IsNullOrEmpty(v));

            if (parseResult.GetValue(protocolVersion))
            {
                await Console.Out.WriteLineAsync(ProtocolVersion.Current.ToString(CultureInfo.InvariantCulture));
                return AgentExitCodes.Ok;
            }

            var errors = new List<string>();
            var options = new AgentOptions();
            options.SelfUpdate = parseResult.GetValue(selfUpdate)
                || environment("SYNAPSE_SELF_UPDATE") is "1" or "true";
            if (Value(upstream, "SYNAPSE_UPSTREAM", "OPENAI_BASE_URL") is { Length: > 0 } upstreamText)
            {
                options.Upstream = ParseUri(upstreamText, "--upstream", errors) ?? options.Upstream;
            }

            // Given several times, the last --server-url wins (so "$@" after the installer's own overrides it);
            // several gateways go comma-separated in one.
            var servers = parseResult.GetResult(serverUrl) is { Implicit: false } && parseResult.GetValue(serverUrl) is [.., var last]
                ? [last]
                : environment("SYNAPSE_SERVER_URL") is { Length: > 0 } fromEnv ? new[] { fromEnv } : [];
            var urls = servers.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Select(s => ParseUri(s, "--server-url", errors))
                .OfType<Uri>()
                .ToArray();
            if (urls.Length > 0)
            {
                options.ServerUrls = urls;
            }

            options.WsAuthKey = Secret(Value(wsKey, "SYNAPSE_WS_AUTH_KEY"), Value(wsKeyFile, "SYNAPSE_WS_AUTH_KEY_FILE"), "--ws-auth-key-file", errors);
            options.UpstreamApiKey = Secret(Value(upstreamKey, "SYNAPSE_UPSTREAM_API_KEY", "OPENAI_API_KEY"), Value(upstreamKeyFile, "SYNAPSE_UPSTREAM_API_KEY_FILE"), "--upstream-api-key-file", errors);
            options.MaxConcurrency = Int(Value(maxConcurrency, "SYNAPSE_MAX_CONCURRENCY"), "--max-concurrency", options.MaxConcurrency, errors);
            options.Connections = Int(Value(connections, "SYNAPSE_CONNECTIONS"), "--connections", options.Connections, errors);
            options.Name = Value(name, "SYNAPSE_NAME") is { Length: > 0 } n ? n : options.Name;
            options.AgentId = Value(agentId, "SYNAPSE_AGENT_ID") is { Length: > 0 } id ? id : null;
            options.DiscoveryInterval = Seconds(Value(discovery, "SYNAPSE_DISCOVERY_INTERVAL"), "--discovery-interval", options.DiscoveryInterval, errors);
            options.EngineMetricsInterval = Seconds(Value(engineMetrics, "SYNAPSE_ENGINE_METRICS_INTERVAL"), "--engine-metrics-interval", options.EngineMetricsInterval, errors);
            options.DrainTimeout = Seconds(Value(drain, "SYNAPSE_DRAIN_TIMEOUT"), "--drain-timeout", options.DrainTimeout, errors);
            var level = LogLevel.Information;
            if (Value(logLevel, "SYNAPSE_LOG_LEVEL") is { Length: > 0 } levelText && !Enum.TryParse(levelText, ignoreCase: true, out level))
            {
                errors.Add($"--log-level: '{levelText}' is not a log level");
            }

            errors.AddRange(options.Validate());
            if (errors.Count > 0)
            {
                foreach (var error in errors)
                {
                    await Console.Error.WriteLineAsync($"error: {error}");
                }

                return AgentExitCodes.Usage;
            }

            return await run(options, level);
        });

        // Signals are the agent's own business (first drains, second stops); the parser must not race it.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    public static string Version => ProtocolVersion.Product;

    private static Option<string> Text(string name, string description) => new(name)
    {
        Description = $"{description} [env: SYNAPSE_{name.TrimStart('-').Replace('-', '_').ToUpperInvariant()}]",
        HelpName = "value",
    };

    private static Uri? ParseUri(string text, string flag, List<string> errors)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            return uri;
        }

        errors.Add($"{flag}: '{text}' is not an absolute URL");
        return null;
    }

    private static string? Secret(string? direct, string? file, string flag, List<string> errors)
    {
        if (string.IsNullOrEmpty(file))
        {
            return string.IsNullOrEmpty(direct) ? null : direct;
        }

        try
        {
            var key = File.ReadAllText(file).Trim();
            if (key.Length == 0)
            {
                errors.Add($"{flag}: '{file}' is empty");
            }

            return key;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{flag}: cannot read '{file}': {ex.Message}");
            return null;
        }
    }

    private static int Int(string? text, string flag, int fallback, List<string> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add($"{flag}: '{text}' is not a whole number");
        return fallback;
    }

    private static TimeSpan Seconds(string? text, string flag, TimeSpan fallback, List<string> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0 and <= 86400)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        errors.Add($"{flag}: '{text}' is not a number of seconds");
        return fallback;
    }
}
