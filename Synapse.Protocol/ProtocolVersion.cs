using System.Reflection;

namespace Synapse.Protocol;

/// <summary>
/// Versions exchanged in the handshake. <see cref="Current"/> changes only when the wire format changes in a way
/// an older peer cannot read; the product version changes with every release and is informational.
/// </summary>
public static class ProtocolVersion
{
    /// <summary>The wire protocol this build speaks.</summary>
    public const int Current = 2;

    /// <summary>The oldest agent protocol this build still serves: version 1 agents work, without engine signals.</summary>
    public const int Oldest = 1;

    /// <summary>The first protocol with the <c>EngineSignals</c> frame; neither side sends it to an older peer.</summary>
    public const int EngineSignals = 2;

    /// <summary>The product version, taken from the one <c>Version</c> in Directory.Build.props.</summary>
    public static string Product { get; } = ReadProductVersion();

    private static string ReadProductVersion()
    {
        var informational = typeof(ProtocolVersion).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational))
        {
            return "0.0.0";
        }

        // SourceLink may append "+<commit>"; the handshake compares the release only.
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
