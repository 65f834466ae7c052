using System.Diagnostics;
using Synapse.Silo.Tenancy;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Tenancy;

/// <summary>
/// Reloading the key-groups file from a real folder: an edit is applied within 2 s whichever way it is noticed
/// (directory watcher, content poll, the Kubernetes <c>..data</c> swap), an invalid or unreadable file changes
/// nothing and says why, and every reading is counted in <c>synapse.config.reloads{result}</c>.
/// </summary>
[Trait("Category", "Unit")]
public sealed partial class TenancyReloadTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("synapse-tenancy-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Theory]
    [InlineData(true, 1.0)]
    [InlineData(true, 0.0)]
    [InlineData(false, 1.0)]
    public async Task EditedFile_IsApplied_WithinTwoSeconds_ByWatcherOrPoll(bool watch, double pollSeconds)
    {
        var file = Write("groups.yaml", Groups("sekret-api-1"));
        await using var host = await TenancyHost.StartAsync(file, watch, TimeSpan.FromSeconds(pollSeconds));
        var source = host.Source;
        var first = source.Current;
        var changes = new List<TenancyConfigChangedEventArgs>();
        source.Changed += (_, e) => { lock (changes) { changes.Add(e); } };

        var clock = Stopwatch.StartNew();
        Write("groups.yaml", Groups("sekret-api-1", "sekret-api-2"));
        await Eventually.UntilAsync(() => source.Current.FindApiCaller("sekret-api-2") is not null, TimeSpan.FromSeconds(5), "the new key works");
        var applied = clock.Elapsed;
        await UntilReloadedAsync(host);

        Assert.True(applied < Deadline, $"applied after {applied.TotalMilliseconds:0} ms");
        Assert.NotNull(source.Current.FindApiCaller("sekret-api-1"));
        var change = Assert.Single(changes);
        Assert.Same(first, change.Previous);
        Assert.Same(source.Current, change.Current);
        var status = source.LastReload!;
        Assert.Equal(TenancyLoadOutcome.Ok, status.Outcome);
        // With both on, whichever notices first applies the change; the other then finds nothing new.
        TenancyReloadTrigger[] expected = watch && pollSeconds > 0 ? [TenancyReloadTrigger.FileChanged, TenancyReloadTrigger.Poll]
            : watch ? [TenancyReloadTrigger.FileChanged] : [TenancyReloadTrigger.Poll];
        Assert.Contains(status.Trigger, expected);
        Assert.Equal(source.Current.Fingerprint, status.Fingerprint);
        Assert.Equal(file, status.File);
        Assert.Equal(["ok"], host.Reloads);
        Assert.Contains(host.Log.Lines, l => l.StartsWith("Information", StringComparison.Ordinal) && l.Contains($"Key groups reloaded from {file}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true, 0.0)]
    [InlineData(false, 1.0)]
    public async Task KubernetesDataSymlinkSwap_IsApplied_WithinTwoSeconds(bool watch, double pollSeconds)
    {
        // The kubelet's layout: ..<timestamp>/ holds the files, ..data links to it, each file links through ..data.
        var mount = _folder.CreateSubdirectory("mount").FullName;
        Directory.CreateDirectory(Path.Combine(mount, "..2026_01_01_00_00_00.1"));
        File.WriteAllText(Path.Combine(mount, "..2026_01_01_00_00_00.1", "groups.yaml"), Groups("sekret-old"));
        File.CreateSymbolicLink(Path.Combine(mount, "..data"), "..2026_01_01_00_00_00.1");
        var file = Path.Combine(mount, "groups.yaml");
        File.CreateSymbolicLink(file, "..data/groups.yaml");
        await using var host = await TenancyHost.StartAsync(file, watch, TimeSpan.FromSeconds(pollSeconds));
        Assert.NotNull(host.Source.Current.FindApiCaller("sekret-old"));

        // The update, as the kubelet does it: a new folder, a new link beside ..data, renamed over it atomically.
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(Path.Combine(mount, "..2026_01_01_00_05_00.2"));
        File.WriteAllText(Path.Combine(mount, "..2026_01_01_00_05_00.2", "groups.yaml"), Groups("sekret-new"));
        File.CreateSymbolicLink(Path.Combine(mount, "..data_tmp"), "..2026_01_01_00_05_00.2");
        Assert.Equal(0, Rename(Path.Combine(mount, "..data_tmp"), Path.Combine(mount, "..data")));
        Directory.Delete(Path.Combine(mount, "..2026_01_01_00_00_00.1"), recursive: true);
        await Eventually.UntilAsync(() => host.Source.Current.FindApiCaller("sekret-new") is not null, TimeSpan.FromSeconds(5), "the swapped file is in force");
        var applied = clock.Elapsed;
        await UntilReloadedAsync(host);

        Assert.True(applied < Deadline, $"applied after {applied.TotalMilliseconds:0} ms");
        Assert.Null(host.Source.Current.FindApiCaller("sekret-old"));
        Assert.Equal(["ok"], host.Reloads);
    }

    [Fact]
    public async Task InvalidFile_KeepsThePreviousConfig_AndSaysWhyOnce_ThenTheFixIsApplied()
    {
        var file = Write("groups.yaml", Groups("sekret-api-1"));
        await using var host = await TenancyHost.StartAsync(file);
        var source = host.Source;
        var good = source.Current;

        Write("groups.yaml", Groups("sekret-api-1") + """
              - name: beta
                ws_auth_keys: [sekret-ws-beta]
                api_keys: [sekret-api-1, sekret-api-3]
                limits: { rpm: -5 }
            """);
        await Eventually.UntilAsync(() => source.LastReload?.Outcome == TenancyLoadOutcome.Invalid, Deadline, "the invalid file is reported within 2 s");

        Assert.Same(good, source.Current);
        Assert.NotNull(source.Current.FindApiCaller("sekret-api-1"));
        Assert.Null(source.Current.FindApiCaller("sekret-api-3"));
        var status = source.LastReload!;
        Assert.Equal(good.Fingerprint, status.Fingerprint);
        Assert.Equal(["groups[1].api_keys[0]", "groups[1].limits.rpm"], status.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.Contains($"keeping {good.Fingerprint}", status.Message, StringComparison.Ordinal);
        var warning = Assert.Single(host.Log.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal));
        Assert.Contains(file, warning, StringComparison.Ordinal);
        Assert.Contains("groups[1].api_keys[0]: the same key also appears in group 'alpha' at groups[0].api_keys[0]", warning, StringComparison.Ordinal);
        Assert.Contains("groups[1].limits.rpm: must be positive, not -5", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("sekret", host.Log.All + status.Message, StringComparison.Ordinal);

        // The poll finds the same broken content again and again: nothing more is logged or counted.
        Assert.Null(source.Reload(TenancyReloadTrigger.Poll));
        Assert.Equal(["invalid"], host.Reloads);

        Write("groups.yaml", Groups("sekret-api-1", "sekret-api-3"));
        await Eventually.UntilAsync(() => source.Current.FindApiCaller("sekret-api-3") is not null, Deadline, "the fixed file is applied within 2 s");
        await UntilReloadedAsync(host, count: 2);
        Assert.Equal(["invalid", "ok"], host.Reloads);
    }

    [Fact]
    public async Task UnreadableFile_KeepsTheLastGoodConfig_AndSaysSo()
    {
        var file = Write("groups.yaml", Groups("sekret-api-1"));
        await using var host = await TenancyHost.StartAsync(file);
        var good = host.Source.Current;

        File.Delete(file);
        await Eventually.UntilAsync(() => host.Source.LastReload?.Outcome == TenancyLoadOutcome.Unreadable, Deadline, "the missing file is reported");

        Assert.Same(good, host.Source.Current);
        Assert.Equal($"unreadable, keeping {good.Fingerprint}: the file does not exist", host.Source.LastReload!.Message);
        Assert.Contains(host.Log.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains($"{file} cannot be read", StringComparison.Ordinal));

        // Back with the same content: in force already, said so, nothing swapped.
        Write("groups.yaml", Groups("sekret-api-1"));
        await Eventually.UntilAsync(() => host.Source.LastReload?.Outcome == TenancyLoadOutcome.Ok, Deadline, "the file is readable again");
        Assert.Same(good, host.Source.Current);
        Assert.StartsWith("unchanged", host.Source.LastReload!.Message, StringComparison.Ordinal);
        Assert.Equal(["unreadable", "ok"], host.Reloads);
    }

    /// <summary>
    /// SIGHUP's handler only queues <see cref="TenancyReloadTrigger.Signal"/> for this entry point; the signal itself
    /// is sent to a real gateway process in <see cref="TenancyProcessTests"/>, never to the test process, whose
    /// other hosts would take it too.
    /// </summary>
    [Fact]
    public async Task SignalReload_ReadsTheFileEvenWhenUnchanged_AndAppliesAChange()
    {
        var file = Write("groups.yaml", Groups("sekret-api-1"));
        await using var host = await TenancyHost.StartAsync(file, watchDirectory: false, poll: TimeSpan.Zero);
        var source = host.Source;
        var first = source.Current;

        var unchanged = source.Reload(TenancyReloadTrigger.Signal)!;
        Assert.Equal((TenancyLoadOutcome.Ok, TenancyReloadTrigger.Signal), (unchanged.Outcome, unchanged.Trigger));
        Assert.StartsWith("unchanged", unchanged.Message, StringComparison.Ordinal);
        Assert.Same(first, source.Current);
        Assert.Null(source.Reload(TenancyReloadTrigger.Poll));

        Write("groups.yaml", Groups("sekret-api-2"));
        var applied = source.Reload(TenancyReloadTrigger.Signal)!;
        Assert.Equal(TenancyLoadOutcome.Ok, applied.Outcome);
        Assert.NotNull(source.Current.FindApiCaller("sekret-api-2"));
        Assert.Null(source.Current.FindApiCaller("sekret-api-1"));
        Assert.Equal(["ok", "ok"], host.Reloads);
    }

    [Fact]
    public async Task FailingListener_NeitherStopsOtherListenersNorTheReload()
    {
        var file = Write("groups.yaml", Groups("sekret-api-1"));
        await using var host = await TenancyHost.StartAsync(file, watchDirectory: false, poll: TimeSpan.Zero);
        var heard = 0;
        host.Source.Changed += (_, _) => throw new InvalidOperationException("listener bug");
        host.Source.Changed += (_, _) => Interlocked.Increment(ref heard);

        Write("groups.yaml", Groups("sekret-api-2"));
        host.Source.Reload(TenancyReloadTrigger.Signal);

        Assert.Equal(1, heard);
        Assert.NotNull(host.Source.Current.FindApiCaller("sekret-api-2"));
        Assert.Contains(host.Log.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("listener bug", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartUp_WithAnInvalidFile_ThrowsEveryErrorNamingTheFile()
    {
        var file = Write("groups.json", """{"groups": [{"name": "a", "ws_auth_keys": [], "api_keys": ["sekret-a"], "limit": {}}]}""");

        var error = await Assert.ThrowsAsync<TenancyConfigException>(() => TenancyHost.StartAsync(file));

        Assert.Equal(["groups[0].limit", "groups[0].ws_auth_keys"], error.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.StartsWith($"key-groups file {file} (2 errors):", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{file}:1:", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sekret", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Synapse:Gateway:ApiAuthKey")]
    [InlineData("Synapse:Gateway:WsAuthKey")]
    public async Task StartUp_ConfigTogetherWithAKeyFlag_IsRefused(string flagKey)
    {
        var file = Write("groups.yaml", Groups("sekret-api-1"));

        var error = await Assert.ThrowsAsync<TenancyConfigException>(() => TenancyHost.StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Tenancy:ConfigFile"] = file,
            [flagKey] = "sekret-flag",
        }));

        Assert.Contains("--config cannot be combined with --api-auth-key or --ws-auth-key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sekret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutConfig_TheFlagsGroupIsInForce_AndThereIsNothingToReload()
    {
        await using var host = await TenancyHost.StartAsync(new Dictionary<string, string?> { ["Synapse:Gateway:ApiAuthKey"] = "sekret-flag" });

        Assert.Null(host.Source.File);
        Assert.Null(host.Source.LastReload);
        Assert.Null(host.Source.Reload(TenancyReloadTrigger.Signal));
        Assert.Equal("default/key-1", host.Source.Current.FindApiCaller("sekret-flag")?.KeyName);
        Assert.Empty(host.Reloads);
    }

    [Fact]
    public async Task RelativePath_IsResolvedOnce_AndReportedInFull()
    {
        var file = Write("groups.yaml", Groups("sekret-api-1"));
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, file);

        await using var host = await TenancyHost.StartAsync(relative, watchDirectory: false, poll: TimeSpan.Zero);

        Assert.Equal(file, host.Source.File);
        Assert.Equal(file, host.Source.LastReload!.File);
        Assert.Equal(TenancyReloadTrigger.Startup, host.Source.LastReload.Trigger);
    }

    /// <summary>The reading is recorded last (after the swap, the log line and the listeners): wait for it.</summary>
    private static Task UntilReloadedAsync(TenancyHost host, int count = 1) =>
        Eventually.UntilAsync(() => host.Reloads.Count >= count, TimeSpan.FromSeconds(1), $"{count} reload(s) recorded");

    /// <summary>Replaces the file atomically (write beside it, rename over it), as editors and the kubelet do, so no reading sees half a file.</summary>
    private string Write(string name, string content)
    {
        var path = Path.Combine(_folder.FullName, name);
        var temporary = Path.Combine(_folder.FullName, $".{name}.{Guid.NewGuid():N}");
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>rename(2), as the kubelet swaps ..data (File.Move follows the link and refuses a link to a folder).</summary>
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "rename", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Rename(string from, string to);

    private static string Groups(params string[] apiKeys) => $"""
        groups:
          - name: alpha
            ws_auth_keys: [sekret-ws-alpha]
            api_keys: [{string.Join(", ", apiKeys)}]

        """;
}
