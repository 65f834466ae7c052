using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Synapse.Protocol;

namespace Synapse.Silo.Hosting;

/// <summary>
/// The gateway's command line. Every flag also reads an environment variable (so keys need not show in
/// <c>ps</c>); a flag given on the command line wins. Values become configuration keys, which bind the options.
/// </summary>
internal static class GatewayCommandLine
{
    private const string G = GatewayOptions.SectionName;
    private const string C = ClusterOptions.SectionName;

    public static readonly IReadOnlyList<GatewayFlag> Flags =
    [
        new("--host", "SYNAPSE_HOST", $"{G}:Host", "Address to listen on (default: localhost; 0.0.0.0 for all interfaces)"),
        new("--port", "SYNAPSE_PORT", $"{G}:Port", "HTTP port for the API and agents (default: 8080)", GatewayFlagKind.Port),
        new("--api-auth-key", "SYNAPSE_API_AUTH_KEY", $"{G}:ApiAuthKey", "Key API callers must send (Authorization: Bearer or X-API-Key)", Secret: true),
        new("--api-auth-key-file", "SYNAPSE_API_AUTH_KEY_FILE", $"{G}:ApiAuthKey", "Read the API key from this file", GatewayFlagKind.File, Secret: true),
        new("--ws-auth-key", "SYNAPSE_WS_AUTH_KEY", $"{G}:WsAuthKey", "Key agents must send to connect to /ws", Secret: true),
        new("--ws-auth-key-file", "SYNAPSE_WS_AUTH_KEY_FILE", $"{G}:WsAuthKey", "Read the WebSocket key from this file", GatewayFlagKind.File, Secret: true),
        new("--config", "SYNAPSE_CONFIG", $"{Tenancy.TenancyOptions.SectionName}:ConfigFile", "Key-groups file (YAML, or JSON by extension): groups of agent and API keys, reloaded on change; replaces the two key flags", GatewayFlagKind.Path),
        new("--client-binary", "SYNAPSE_CLIENT_BINARY", $"{G}:ClientBinary", "Agent binary (or folder of them) served by /getclient (default: what make all built in this checkout)"),
        new("--trust-forwarded-headers", "SYNAPSE_TRUST_FORWARDED_HEADERS", $"{G}:TrustForwardedHeaders", "Trust X-Forwarded-Proto/Host from a reverse proxy", GatewayFlagKind.Switch),
        new("--max-request-body", "SYNAPSE_MAX_REQUEST_BODY", $"{G}:MaxRequestBodyBytes", "Largest request body in bytes (default: 33554432)", GatewayFlagKind.Count),
        new("--drain-timeout", "SYNAPSE_DRAIN_TIMEOUT", $"{G}:DrainTimeout", "Seconds to finish streams on shutdown (default: 30)", GatewayFlagKind.Seconds),
        new("--queue-timeout", "SYNAPSE_QUEUE_TIMEOUT", "Synapse:Balancing:QueueTimeout", "Seconds a request waits for a free instance (default: 30)", GatewayFlagKind.Seconds),
        new("--max-queue", "SYNAPSE_MAX_QUEUE", "Synapse:Balancing:MaxQueueLength", "Requests that may wait per model (default: 1000)", GatewayFlagKind.Count),
        new("--idle-timeout", "SYNAPSE_IDLE_TIMEOUT", $"{G}:IdleTimeout", "Seconds a response may send nothing before it is ended (default: 300)", GatewayFlagKind.Seconds),
        new("--heartbeat-timeout", "SYNAPSE_HEARTBEAT_TIMEOUT", "Synapse:Agents:HeartbeatTimeout", "Seconds of agent silence before it is declared dead (default: 15)", GatewayFlagKind.Seconds),
        new("--redis", "SYNAPSE_REDIS", $"{C}:Redis", "Redis connection string for cluster membership (default: none, single localhost silo)", Secret: true),
        new("--silo-port", "SYNAPSE_SILO_PORT", $"{C}:SiloPort", "Orleans silo-to-silo port (default: 11111)", GatewayFlagKind.Port),
        new("--gateway-port", "SYNAPSE_GATEWAY_PORT", $"{C}:GatewayPort", "Orleans client gateway port (default: 30000)", GatewayFlagKind.Port),
        new("--cluster-id", "SYNAPSE_CLUSTER_ID", $"{C}:ClusterId", "Orleans cluster id (default: synapse)"),
        new("--service-id", "SYNAPSE_SERVICE_ID", $"{C}:ServiceId", "Orleans service id (default: synapse)"),
        new("--advertise-address", "SYNAPSE_ADVERTISE_ADDRESS", $"{C}:AdvertiseAddress", "IP address other silos use to reach this one"),
        new("--primary-silo", "SYNAPSE_PRIMARY_SILO", $"{C}:PrimarySilo", "Development only: join the localhost cluster whose first silo listens at host:port"),
    ];

    /// <summary>Parses <paramref name="args"/>; runs <paramref name="run"/> with the resulting settings unless help, version or an error ends it first.</summary>
    public static Task<int> InvokeAsync(string[] args, Func<IReadOnlyDictionary<string, string?>, CancellationToken, Task<int>> run)
    {
        var options = Flags.ToDictionary(f => f, CreateOption);
        var root = new RootCommand("Synapse gateway: one OpenAI-compatible endpoint in front of many LLM servers.");
        foreach (var option in options.Values)
        {
            root.Options.Add(option);
        }

        root.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (flag, option) in options)
            {
                string? raw;
                string source;
                if (parseResult.GetResult(option) is { } result && !result.Implicit)
                {
                    raw = flag.Kind == GatewayFlagKind.Switch
                        ? (parseResult.GetValue((Option<bool>)option) ? "true" : "false")
                        : parseResult.GetValue((Option<string>)option);
                    source = flag.Name;
                }
                else
                {
                    raw = Environment.GetEnvironmentVariable(flag.EnvironmentVariable);
                    source = flag.EnvironmentVariable;
                }

                if (string.IsNullOrEmpty(raw))
                {
                    continue;
                }

                if (!TryConvert(flag, raw, out var value, out var error))
                {
                    await Console.Error.WriteLineAsync($"error: {source}: {error}");
                    return 2;
                }

                settings[flag.ConfigurationKey] = value;
            }

            return await run(settings, cancellationToken);
        });

        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    public static string Version => ProtocolVersion.Product;

    private static Option CreateOption(GatewayFlag flag)
    {
        var description = $"{flag.Description} [env: {flag.EnvironmentVariable}]";
        return flag.Kind == GatewayFlagKind.Switch
            ? new Option<bool>(flag.Name) { Description = description }
            : new Option<string>(flag.Name) { Description = description, HelpName = HelpNameOf(flag.Kind) };
    }

    private static string HelpNameOf(GatewayFlagKind kind) => kind switch
    {
        GatewayFlagKind.Port => "port",
        GatewayFlagKind.Count => "n",
        GatewayFlagKind.Seconds => "seconds",
        GatewayFlagKind.File or GatewayFlagKind.Path => "path",
        _ => "value",
    };

    private static bool TryConvert(GatewayFlag flag, string raw, out string? value, out string error)
    {
        value = raw;
        error = string.Empty;
        switch (flag.Kind)
        {
            case GatewayFlagKind.Port:
                if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                {
                    error = $"'{raw}' is not a port number (0-65535)";
                    return false;
                }

                return true;
            case GatewayFlagKind.Count:
                if (!long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    error = $"'{raw}' is not a whole number";
                    return false;
                }

                return true;
            case GatewayFlagKind.Seconds:
                if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || seconds > 86400)
                {
                    error = $"'{raw}' is not a number of seconds";
                    return false;
                }

                value = TimeSpan.FromSeconds(seconds).ToString("c", CultureInfo.InvariantCulture);
                return true;
            case GatewayFlagKind.Switch:
                if (!bool.TryParse(raw, out var on) && raw is not ("1" or "0"))
                {
                    error = $"'{raw}' is not true or false";
                    return false;
                }

                value = (on || raw == "1") ? "true" : "false";
                return true;
            case GatewayFlagKind.File:
                try
                {
                    value = File.ReadAllText(raw).Trim();
                    if (value.Length == 0)
                    {
                        error = $"key file '{raw}' is empty";
                        return false;
                    }

                    return true;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    error = $"cannot read key file '{raw}': {ex.Message}";
                    return false;
                }

            default:
                return true;
        }
    }
}
