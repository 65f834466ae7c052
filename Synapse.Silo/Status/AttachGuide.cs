using Synapse.Silo.Install;

namespace Synapse.Silo.Status;

/// <summary>
/// What the status page shows while no agent is connected: how to attach one, and how to call the gateway. The
/// addresses are this gateway's as the request reached it, by the same rules as <c>/run</c> (so the command shown
/// is the one <c>/run</c> completes). Keys are never in it: only whether one is needed.
/// </summary>
/// <param name="Gateway">The gateway's base address, or null when the request's Host is not a valid host name.</param>
/// <param name="RunCommand">The one-line install (<c>curl … /run | bash</c>), with a placeholder for the WebSocket key.</param>
/// <param name="SourceCommand">The same agent run from a checkout, for a gateway that has no agent binaries to hand out.</param>
/// <param name="BaseUrl">The OpenAI base URL for SDKs.</param>
/// <param name="AgentBinaries">Whether <c>/run</c> can install the agent (false: build it with <c>make all</c>).</param>
public sealed record AttachGuide(
    string? Gateway,
    string? RunCommand,
    string? SourceCommand,
    string? BaseUrl,
    bool AgentBinaries,
    bool WsKeyRequired,
    bool ApiKeyRequired)
{
    /// <summary>The LLM server's address as the agent sees it, next to it: vLLM's default port.</summary>
    public const string ExampleUpstream = "http://127.0.0.1:8000";

    /// <summary>Stands for the WebSocket key in the commands: the page never knows the key.</summary>
    public const string KeyPlaceholder = "…";

    internal static AttachGuide For(PublicAddress? address, bool agentBinaries, bool wsKeyRequired, bool apiKeyRequired)
    {
        var key = wsKeyRequired ? $" --ws-auth-key '{KeyPlaceholder}'" : string.Empty;
        return new AttachGuide(
            address?.HttpUrl(string.Empty),
            address is null ? null : $"curl -fsSL {address.HttpUrl("/run")} | bash -s -- --upstream {ExampleUpstream}{key}",
            address is null ? null : $"dotnet run --project Synapse.Client -- --upstream {ExampleUpstream} --server-url {address.WebSocketUrl("/ws")}{key}",
            address?.HttpUrl("/v1"),
            agentBinaries,
            wsKeyRequired,
            apiKeyRequired);
    }
}
