namespace Synapse.Client.Hosting;

/// <summary>Process exit codes, so scripts and supervisors can tell failures apart.</summary>
public static class AgentExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;

    /// <summary>The gateway speaks another protocol version: reinstall the agent from the gateway's /run.</summary>
    public const int VersionMismatch = 3;

    /// <summary>The gateway refused the WebSocket key.</summary>
    public const int Unauthorized = 4;

    /// <summary>A second SIGTERM/SIGINT cut the drain short.</summary>
    public const int Interrupted = 130;
}
