namespace Synapse.Silo.Tenancy;

/// <summary>Key groups (section <c>Synapse:Tenancy</c>): the file and how its changes are noticed.</summary>
public sealed class TenancyOptions
{
    public const string SectionName = "Synapse:Tenancy";

    /// <summary>
    /// The key-groups file (<c>--config</c>, <c>SYNAPSE_CONFIG</c>). Without it the gateway has one implicit group,
    /// <c>default</c>, keyed by <c>--api-auth-key</c> and <c>--ws-auth-key</c>.
    /// </summary>
    public string? ConfigFile { get; set; }

    /// <summary>
    /// How often the file's content is compared with what is in force, beside the directory watcher (which misses
    /// events on some volumes, and sees nothing when the path is a symlink into another directory). Zero turns the
    /// poll off.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Watch the file's directory for changes (inotify); off leaves the poll and SIGHUP.</summary>
    public bool WatchDirectory { get; set; } = true;

    /// <summary>Reload when the process receives SIGHUP.</summary>
    public bool ReloadOnSignal { get; set; } = true;

    /// <summary>
    /// After a change is seen, how long the directory must stay quiet before the file is read, so that an editor
    /// writing in several steps is read once, whole.
    /// </summary>
    public TimeSpan SettleDelay { get; set; } = TimeSpan.FromMilliseconds(100);
}
