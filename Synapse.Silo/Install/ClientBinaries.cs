using Microsoft.Extensions.Options;
using Synapse.Silo.Hosting;

namespace Synapse.Silo.Install;

/// <summary>
/// The agent binaries the gateway hands out, found by <see cref="ClientBinaryLocator"/> from <c>--client-binary</c>
/// or, without it, in the source checkout the gateway runs from.
/// </summary>
internal sealed class ClientBinaries(IOptions<GatewayOptions> options)
{
    public const string FileName = ClientBinaryLocator.FileName;

    private readonly ClientBinaryLocator _locator = new(options.Value.ClientBinary, Environment.CurrentDirectory, AppContext.BaseDirectory);

    /// <summary>True when <c>--client-binary</c> names the place; false when the checkout is searched.</summary>
    public bool IsConfigured => _locator.IsConfigured;

    /// <summary>Every binary served now, one per platform.</summary>
    public IReadOnlyList<ClientBinary> All => _locator.FindAll();

    public bool Any => All.Count > 0;

    /// <summary>The binary for <paramref name="os"/>/<paramref name="arch"/>, or null when there is none.</summary>
    public FileInfo? Find(string os, string arch) => _locator.Find($"{os}-{arch}");

    /// <summary>Normalises what callers send (<c>x86_64</c>, <c>amd64</c>, <c>aarch64</c>...) to the platform names.</summary>
    public static string NormalizeArch(string? arch) => arch?.ToLowerInvariant() switch
    {
        null or "" or "x64" or "x86_64" or "amd64" => "x64",
        "arm64" or "aarch64" => "arm64",
        var other => other,
    };

    /// <summary>What an operator does so that the gateway has binaries to serve: one sentence, no paths.</summary>
    public string HowToProvide => IsConfigured
        ? "point --client-binary at a synapse-client binary or at a folder holding linux-x64/synapse-client (make all in the Synapse checkout builds one)"
        : "run make all in the Synapse checkout the gateway runs from (no restart needed), or start the gateway with --client-binary PATH";
}
