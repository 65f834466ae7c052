using System.Diagnostics;

namespace Synapse.Tests.Infrastructure;

/// <summary>
/// The agent as users get it: published once per test run (Native AOT, linux-x64) into
/// <c>artifacts/test-client/linux-x64/synapse-client</c>, the layout <c>--client-binary</c> serves from.
/// </summary>
public sealed class PublishedAgent : IAsyncLifetime
{
    private static readonly SemaphoreSlim Publishing = new(1, 1);

    /// <summary>The folder to give the gateway as <c>--client-binary</c>.</summary>
    public string Folder { get; private set; } = string.Empty;

    public string Binary => Path.Combine(Folder, "linux-x64", "synapse-client");

    public async Task InitializeAsync()
    {
        var root = RepositoryRoot.Path;
        Folder = Path.Combine(root, "artifacts", "test-client");
        await Publishing.WaitAsync();
        try
        {
            var stamp = Path.Combine(Folder, ".published");
            var sources = Directory.EnumerateFiles(Path.Combine(root, "Synapse.Client"), "*.cs", SearchOption.AllDirectories)
                .Concat(Directory.EnumerateFiles(Path.Combine(root, "Synapse.Protocol"), "*.cs", SearchOption.AllDirectories))
                .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
                .Max(File.GetLastWriteTimeUtc);
            if (File.Exists(Binary) && File.Exists(stamp) && File.GetLastWriteTimeUtc(stamp) > sources)
            {
                return;
            }

            var info = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var arg in new[] { "publish", "Synapse.Client", "-c", "Release", "-r", "linux-x64", "-o", Path.Combine(Folder, "linux-x64"), "-nologo" })
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0 || !File.Exists(Binary))
            {
                throw new InvalidOperationException($"publishing the agent failed:\n{await output}\n{await errors}");
            }

            await File.WriteAllTextAsync(stamp, DateTime.UtcNow.ToString("O"));
        }
        finally
        {
            Publishing.Release();
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
