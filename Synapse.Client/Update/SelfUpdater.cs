using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Synapse.Protocol.Messages;

namespace Synapse.Client.Update;

/// <summary>
/// Replaces the running agent with the one the gateway serves, when the gateway refused this one's protocol and
/// the agent was installed by the gateway's <c>/run</c> script (<c>--self-update</c>): download next to the
/// binary, check the new one speaks a protocol the gateway accepts, rename it over the old one (atomic), and exec
/// it with the same arguments. Any doubt and it leaves things as they were.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static partial class SelfUpdater
{
    /// <summary>Does not return when the update succeeds; otherwise says why it did not happen.</summary>
    public static async Task<string> UpdateAndRestartAsync(RejectMessage rejection, string[] args, ILogger logger, CancellationToken cancellationToken)
    {
        var self = Environment.ProcessPath;
        if (string.IsNullOrEmpty(self) || Path.GetFileName(self) is "dotnet" or "dotnet.exe")
        {
            return "this agent is not a standalone binary, so it cannot replace itself";
        }

        if (rejection.DownloadUrl is not { Length: > 0 } url || !Uri.TryCreate(url, UriKind.Absolute, out var source) || source.Scheme is not ("http" or "https"))
        {
            return "the gateway did not say where to download the matching agent";
        }

        var directory = Path.GetDirectoryName(self)!;
        var staged = Path.Combine(directory, $".synapse-client.{Environment.ProcessId}.update");
        try
        {
            LogDownloading(logger, source, rejection.ServerVersion);
            using (var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) })
            await using (var file = File.Create(staged))
            {
                using var response = await http.GetAsync(source, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return $"downloading {source} failed with HTTP {(int)response.StatusCode}";
                }

                await response.Content.CopyToAsync(file, cancellationToken);
            }

            File.SetUnixFileMode(staged, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

            var protocol = await ProtocolOfAsync(staged, cancellationToken);
            if (protocol is null || protocol < rejection.MinProtocolVersion || protocol > rejection.MaxProtocolVersion)
            {
                return $"the agent the gateway serves speaks protocol {protocol?.ToString(CultureInfo.InvariantCulture) ?? "?"}, "
                    + $"not {rejection.MinProtocolVersion}-{rejection.MaxProtocolVersion}; not replacing this one";
            }

            File.Move(staged, self, overwrite: true);
            LogRestarting(logger, self, protocol.Value);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            return $"the update failed: {ex.Message}";
        }
        finally
        {
            if (File.Exists(staged))
            {
                File.Delete(staged);
            }
        }

        // Same process, new program, same arguments.
        string?[] argv = [self, .. args, null];
        Execv(self, argv);
        return $"could not start the updated agent (errno {Marshal.GetLastPInvokeError()}); run it again";
    }

    private static async Task<int?> ProtocolOfAsync(string path, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(path, "--protocol-version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info);
        if (process is null)
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0 && int.TryParse(output.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : null;
    }

    [LibraryImport("libc", EntryPoint = "execv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Execv(string path, string?[] argv);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Downloading the agent for gateway {Version} from {Url}")]
    private static partial void LogDownloading(ILogger logger, Uri url, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Installed the agent for protocol {Protocol} at {Path}; restarting it")]
    private static partial void LogRestarting(ILogger logger, string path, int protocol);
}
