using System.Text;
using Synapse.Protocol;

namespace Synapse.Silo.Install;

/// <summary>
/// The <c>/run</c> script: the embedded template with the gateway's address, version and platforms filled in, or,
/// when the gateway cannot install an agent, a script that says why on stderr and exits non-zero (so that
/// <c>curl … | bash</c> prints a sentence, never a shell error about JSON). Only values the gateway itself produced or
/// that passed <see cref="PublicAddress"/> validation go in, inside single quotes.
/// </summary>
internal static class InstallScript
{
    /// <summary>The exit code of the failure script.</summary>
    public const int FailureExitCode = 1;

    private static readonly Lazy<string> Template = new(() =>
    {
        using var stream = typeof(InstallScript).Assembly.GetManifestResourceStream("Synapse.Silo.Install.install.sh")
            ?? throw new InvalidOperationException("The install script is missing from the build.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    });

    public static string For(PublicAddress address, IEnumerable<string> platforms) => Template.Value
        .Replace("{{GATEWAY}}", address.HttpUrl(string.Empty), StringComparison.Ordinal)
        .Replace("{{SERVER_URL}}", address.WebSocketUrl("/ws"), StringComparison.Ordinal)
        .Replace("{{VERSION}}", ProtocolVersion.Product, StringComparison.Ordinal)
        .Replace("{{PLATFORMS}}", string.Join(' ', platforms), StringComparison.Ordinal);

    /// <summary>A script that prints <paramref name="sentence"/> as an error on stderr and exits with <see cref="FailureExitCode"/>.</summary>
    public static string Failure(string sentence) =>
        $"""
        #!/usr/bin/env bash
        # Synapse agent installer, served by the gateway at /run. This gateway cannot install an agent now: the line
        # below says why and what fixes it on the gateway's side.
        printf 'synapse: error: %s\n' {Quote(sentence)} >&2
        exit {FailureExitCode}

        """.Replace("\r", string.Empty, StringComparison.Ordinal);

    /// <summary>One shell word that is exactly <paramref name="value"/>, whatever it holds.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
