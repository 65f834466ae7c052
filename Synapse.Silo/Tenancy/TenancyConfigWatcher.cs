using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Synapse.Silo.Tenancy;

/// <summary>
/// Notices changes of the key-groups file and has <see cref="TenancyConfigSource"/> reload it, three ways:
/// <list type="bullet">
/// <item>a watcher on the file's directory, not the file: Kubernetes updates a mounted ConfigMap or Secret by
/// swapping the <c>..data</c> symlink in that directory atomically, and the file itself (a symlink through
/// <c>..data</c>) never sees a write;</item>
/// <item>a content check every <see cref="TenancyOptions.PollInterval"/>, because watchers miss events on some
/// volumes (network and overlay filesystems) and see nothing when the path links into another directory;</item>
/// <item>SIGHUP, which reloads even when the content looks unchanged.</item>
/// </list>
/// All three feed one loop, so readings never overlap and a burst of events is read once.
/// </summary>
internal sealed partial class TenancyConfigWatcher(
    TenancyConfigSource source,
    IOptions<TenancyOptions> options,
    TimeProvider time,
    ILogger<TenancyConfigWatcher> logger) : BackgroundService
{
    private const int MaxSettleRounds = 10;

    private readonly Channel<TenancyReloadTrigger> _triggers = Channel.CreateUnbounded<TenancyReloadTrigger>(new UnboundedChannelOptions { SingleReader = true });

    // Held here: the runtime keeps only a weak reference to a FileSystemWatcher while it raises events.
    private FileSystemWatcher? _watcher;
    private PosixSignalRegistration? _signal;

    /// <summary>
    /// Starts watching before the host reports itself started (ExecuteAsync runs on its own, later), so that a
    /// change made right after start-up is seen, then reads the file once more to catch a change made before.
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (source.File is { } file)
        {
            var settings = options.Value;
            _watcher = settings.WatchDirectory ? Watch(file) : null;
            _signal = settings.ReloadOnSignal ? RegisterSignal() : null;
            LogWatching(logger, file, _watcher is not null, settings.PollInterval.TotalSeconds, _signal is not null);

            // A change between the first reading (at registration) and now would otherwise wait for the next one.
            source.Reload(TenancyReloadTrigger.Poll);
        }

        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        StopWatching();
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        StopWatching();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (source.File is null)
        {
            return;
        }

        var settings = options.Value;
        var poll = settings.PollInterval > TimeSpan.Zero ? PollAsync(settings.PollInterval, stoppingToken) : Task.CompletedTask;
        try
        {
            while (await _triggers.Reader.WaitToReadAsync(stoppingToken))
            {
                var trigger = Drain(TenancyReloadTrigger.Poll);
                if (trigger == TenancyReloadTrigger.FileChanged)
                {
                    // Let a burst of events (an editor's several writes, the kubelet's link swap) settle first,
                    // but never for long: a busy directory must not hold a change back.
                    for (var round = 0; round < MaxSettleRounds; round++)
                    {
                        await Task.Delay(settings.SettleDelay, time, stoppingToken);
                        if (!_triggers.Reader.TryPeek(out _) || (trigger = Drain(trigger)) == TenancyReloadTrigger.Signal)
                        {
                            break;
                        }
                    }
                }

                source.Reload(trigger);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await poll;
    }

    private void StopWatching()
    {
        _watcher?.Dispose();
        _watcher = null;
        _signal?.Dispose();
        _signal = null;
    }

    /// <summary>Takes every pending trigger; the strongest wins: a signal (forces a reading), then a change, then a poll.</summary>
    private TenancyReloadTrigger Drain(TenancyReloadTrigger trigger)
    {
        while (_triggers.Reader.TryRead(out var next))
        {
            if (Rank(next) > Rank(trigger))
            {
                trigger = next;
            }
        }

        return trigger;

        static int Rank(TenancyReloadTrigger t) => t switch
        {
            TenancyReloadTrigger.Signal => 2,
            TenancyReloadTrigger.FileChanged => 1,
            _ => 0,
        };
    }

    private async Task PollAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                _triggers.Writer.TryWrite(TenancyReloadTrigger.Poll);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private FileSystemWatcher? Watch(string file)
    {
        var directory = Path.GetDirectoryName(file);
        if (string.IsNullOrEmpty(directory))
        {
            return null;
        }

        try
        {
            var watcher = new FileSystemWatcher(directory)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            };

            // Any entry of the directory: the file, or the ..data link and ..<timestamp> folders Kubernetes swaps.
            void Changed(object sender, FileSystemEventArgs e) => _triggers.Writer.TryWrite(TenancyReloadTrigger.FileChanged);
            watcher.Changed += Changed;
            watcher.Created += Changed;
            watcher.Deleted += Changed;
            watcher.Renamed += (sender, e) => Changed(sender, e);
            watcher.Error += (_, e) =>
            {
                LogWatcherError(logger, directory, e.GetException().Message);
                _triggers.Writer.TryWrite(TenancyReloadTrigger.FileChanged);
            };
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            // Out of inotify watches, or no such directory yet: the poll still notices changes.
            LogWatcherError(logger, directory, ex.Message);
            return null;
        }
    }

    private PosixSignalRegistration? RegisterSignal()
    {
        try
        {
            return PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                // SIGHUP's default action ends the process; here it only means "read the file again".
                context.Cancel = true;
                _triggers.Writer.TryWrite(TenancyReloadTrigger.Signal);
            });
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Key groups from {File}: watching its directory {Watching}, checking its content every {PollSeconds} s, SIGHUP reloads {Signal}")]
    private static partial void LogWatching(ILogger logger, string file, bool watching, double pollSeconds, bool signal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot watch {Directory} for key-groups changes ({Reason}); the periodic content check still notices them")]
    private static partial void LogWatcherError(ILogger logger, string directory, string reason);
}
