using Microsoft.Extensions.Options;
using Synapse.Silo.Hosting;

namespace Synapse.Silo.Install;

/// <summary>
/// The agent binaries the gateway hands out: <c>--client-binary</c> names one file (served for linux-x64) or a
/// folder holding <c>linux-x64/synapse-client</c>, <c>linux-arm64/synapse-client</c>, ...
/// </summary>
internal sealed class ClientBinaries(IOptions<GatewayOptions> options)
{
    public const string FileName = "synapse-client";

    private static readonly string[] Platforms = ["linux-x64", "linux-arm64"];

    /// <summary>The binary for <paramref name="os"/>/<paramref name="arch"/>, or null when there is none.</summary>
    public FileInfo? Find(string os, string arch)
    {
        var platform = $"{os}-{arch}";
        if (Array.IndexOf(Platforms, platform) < 0)
        {
            return null;
        }

        var configured = options.Value.ClientBinary;
        if (string.IsNullOrWhiteSpace(configured))
        {
            return null;
        }

        var path = Path.GetFullPath(configured);
        if (Directory.Exists(path))
        {
            var file = new FileInfo(Path.Combine(path, platform, FileName));
            return file.Exists ? file : null;
        }

        var single = new FileInfo(path);
        return single.Exists && platform == "linux-x64" ? single : null;
    }

    public bool Any => Platforms.Any(p => Find("linux", p["linux-".Length..]) is not null);

    /// <summary>Normalises what callers send (<c>x86_64</c>, <c>amd64</c>, <c>aarch64</c>...) to the platform names.</summary>
    public static string NormalizeArch(string? arch) => arch?.ToLowerInvariant() switch
    {
        null or "" or "x64" or "x86_64" or "amd64" => "x64",
        "arm64" or "aarch64" => "arm64",
        var other => other,
    };
}
