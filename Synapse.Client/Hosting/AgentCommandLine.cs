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
public static partial class AgentCommandLine
{
    /// <param name="environment">Where environment variables are read (the process's by default; tests pass their own).</param>
    public static Task<int> InvokeAsync(string[] args, Func<AgentOptions, LogLevel, Task<int>> run, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var flags = new Flags();
        var root = new RootCommand("Synapse agent: attaches an OpenAI-compatible LLM server to a Synapse gateway by dialling out.")
        {
            flags.Upstream, flags.ServerUrl, flags.WsKey, flags.WsKeyFile, flags.UpstreamKey, flags.UpstreamKeyFile, flags.MaxConcurrency, flags.Name,
            flags.AgentId, flags.Connections, flags.Discovery, flags.EngineMetrics, flags.Drain, flags.LogLevel, flags.SelfUpdate, flags.ProtocolVersion,
        };

        root.SetAction(parseResult => RunAsync(parseResult, flags, environment, run));

        // Signals are the agent's own business (first drains, second stops); the parser must not race it.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static async Task<int> RunAsync(ParseResult parseResult, Flags flags, Func<string, string?> environment, Func<AgentOptions, LogLevel, Task<int>> run)
    {
        // A flag (under any of its names) wins; then the first variable that is set, in the order given.
        string? Value(Option<string> option, params string[] variables) =>
            parseResult.GetResult(option) is { Implicit: false }
                ? parseResult.GetValue(option)
                : variables.Select(environment).FirstOrDefault(v => !string.IsNullOrEmpty(v));

        if (parseResult.GetValue(flags.ProtocolVersion))
        {
            await Console.Out.WriteLineAsync(ProtocolVersion.Current.ToString(CultureInfo.InvariantCulture));
            return AgentExitCodes.Ok;
        }

        var errors = new List<string>();
        var options = new AgentOptions();
        options.SelfUpdate = parseResult.GetValue(flags.SelfUpdate)
            || environment("SYNAPSE_SELF_UPDATE") is "1" or "true";
        if (Value(flags.Upstream, "SYNAPSE_UPSTREAM", "OPENAI_BASE_URL") is { Length: > 0 } upstreamText)
        {
            options.Upstream = ParseUri(upstreamText, "--upstream", errors) ?? options.Upstream;
        }

        var urls = ServerUrls(parseResult, flags.ServerUrl, environment, errors);
        if (urls.Length > 0)
        {
            options.ServerUrls = urls;
        }

        options.WsAuthKey = Secret(Value(flags.WsKey, "SYNAPSE_WS_AUTH_KEY"), Value(flags.WsKeyFile, "SYNAPSE_WS_AUTH_KEY_FILE"), "--ws-auth-key-file", errors);
        options.UpstreamApiKey = Secret(Value(flags.UpstreamKey, "SYNAPSE_UPSTREAM_API_KEY", "OPENAI_API_KEY"), Value(flags.UpstreamKeyFile, "SYNAPSE_UPSTREAM_API_KEY_FILE"), "--upstream-api-key-file", errors);
        options.MaxConcurrency = Int(Value(flags.MaxConcurrency, "SYNAPSE_MAX_CONCURRENCY"), "--max-concurrency", options.MaxConcurrency, errors);
        options.Connections = Int(Value(flags.Connections, "SYNAPSE_CONNECTIONS"), "--connections", options.Connections, errors);
        options.Name = Value(flags.Name, "SYNAPSE_NAME") is { Length: > 0 } n ? n : options.Name;
        options.AgentId = Value(flags.AgentId, "SYNAPSE_AGENT_ID") is { Length: > 0 } id ? id : null;
        options.DiscoveryInterval = Seconds(Value(flags.Discovery, "SYNAPSE_DISCOVERY_INTERVAL"), "--discovery-interval", options.DiscoveryInterval, errors);
        options.EngineMetricsInterval = Seconds(Value(flags.EngineMetrics, "SYNAPSE_ENGINE_METRICS_INTERVAL"), "--engine-metrics-interval", options.EngineMetricsInterval, errors);
        options.DrainTimeout = Seconds(Value(flags.Drain, "SYNAPSE_DRAIN_TIMEOUT"), "--drain-timeout", options.DrainTimeout, errors);
        var level = LogLevel.Information;
        if (Value(flags.LogLevel, "SYNAPSE_LOG_LEVEL") is { Length: > 0 } levelText && !Enum.TryParse(levelText, ignoreCase: true, out level))
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
    }

    // Given several times, the last --server-url wins (so "$@" after the installer's own overrides it);
    // several gateways go comma-separated in one.
    private static Uri[] ServerUrls(ParseResult parseResult, Option<string[]> serverUrl, Func<string, string?> environment, List<string> errors)
    {
        var servers = parseResult.GetResult(serverUrl) is { Implicit: false } && parseResult.GetValue(serverUrl) is [.., var last]
            ? [last]
            : environment("SYNAPSE_SERVER_URL") is { Length: > 0 } fromEnv ? new[] { fromEnv } : [];
        return servers.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(s => ParseUri(s, "--server-url", errors))
            .OfType<Uri>()
            .ToArray();
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
