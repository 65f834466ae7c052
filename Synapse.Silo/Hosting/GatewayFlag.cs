namespace Synapse.Silo.Hosting;

/// <summary>One command-line flag of the gateway, its environment variable and the configuration key it sets.</summary>
internal sealed record GatewayFlag(
    string Name,
    string EnvironmentVariable,
    string ConfigurationKey,
    string Description,
    GatewayFlagKind Kind = GatewayFlagKind.Text,
    bool Secret = false);

internal enum GatewayFlagKind
{
    Text,
    Port,
    Count,
    Seconds,
    Switch,

    /// <summary>A secret read from the named file (the value is the file's content).</summary>
    File,

    /// <summary>A file the gateway itself opens (and may read again).</summary>
    Path,
}
