using System.Text;
using Synapse.Protocol;

namespace Synapse.Silo.Install;

/// <summary>
/// The <c>/run</c> script: the embedded template with the gateway's address and version filled in. Only values
/// that passed <see cref="PublicAddress"/> validation go in, inside single quotes.
/// </summary>
internal static class InstallScript
{
    private static readonly Lazy<string> Template = new(() =>
    {
        using var stream = typeof(InstallScript).Assembly.GetManifestResourceStream("Synapse.Silo.Install.install.sh")
            ?? throw new InvalidOperationException("The install script is missing from the build.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    });

    public static string For(PublicAddress address) => Template.Value
        .Replace("{{GATEWAY}}", address.HttpUrl(string.Empty), StringComparison.Ordinal)
        .Replace("{{SERVER_URL}}", address.WebSocketUrl("/ws"), StringComparison.Ordinal)
        .Replace("{{VERSION}}", ProtocolVersion.Product, StringComparison.Ordinal);
}
