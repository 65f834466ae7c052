using System.Diagnostics.Metrics;
using Synapse.Silo.Observability;

namespace Synapse.Silo.Tenancy;

/// <summary>
/// The key-groups config in force on this silo, and the one place that replaces it. Readers take
/// <see cref="Current"/> (one volatile read, no lock) once per request and use that snapshot throughout; a reload
/// swaps in a new immutable <see cref="TenancyConfig"/> and raises <see cref="Changed"/>. A file that turns out
/// invalid or unreadable changes nothing: the last good config stays, the reason is logged and kept in
/// <see cref="LastReload"/>, and <c>synapse.config.reloads{result}</c> counts it.
/// </summary>
public sealed partial class TenancyConfigSource
{
    public const string ReloadsMetric = "synapse.config.reloads";

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Counter<long> _reloads;
    private TenancyConfig _current;
    private TenancyReloadStatus? _lastReload;

    // The content in force, and what the last reading found (content hash, or the reason it could not be read),
    // so that a poll every second acts, logs and counts once per change, not once per second.
    private string? _appliedHash;
    private string? _lastSeen;

    public TenancyConfigSource(TenancyConfig initial, string? initialContentHash, TimeProvider time, ILogger<TenancyConfigSource> logger, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(meters);
        _current = initial;
        _appliedHash = _lastSeen = initialContentHash;
        _time = time;
        _logger = logger;
        _reloads = meters.Create(GatewayMetrics.MeterName)
            .CreateCounter<long>(ReloadsMetric, "{reload}", "Readings of the key-groups file after start-up that found a change, by result (ok, invalid, unreadable).");
        if (initial.File is { } file)
        {
            _lastReload = new TenancyReloadStatus(time.GetUtcNow(), TenancyReloadTrigger.Startup, TenancyLoadOutcome.Ok, file, Summary(initial), initial.Fingerprint, []);
        }
    }

    /// <summary>Raised after a new config came into force (on the thread that reloaded; keep handlers short).</summary>
    public event EventHandler<TenancyConfigChangedEventArgs>? Changed;

    /// <summary>The config in force. Take it once per request and keep that snapshot for the whole request.</summary>
    public TenancyConfig Current => Volatile.Read(ref _current);

    /// <summary>The file this silo reads; null without <c>--config</c> (nothing to reload then).</summary>
    public string? File => _current.File;

    /// <summary>The last reading of the file (the start-up one until a change is seen); null without <c>--config</c>.</summary>
    public TenancyReloadStatus? LastReload => Volatile.Read(ref _lastReload);

    /// <summary>
    /// Reads the file and applies it if it changed and is valid. Unless <paramref name="trigger"/> is
    /// <see cref="TenancyReloadTrigger.Signal"/>, a reading that finds the same content (or the same failure) as the
    /// last one does nothing at all. Returns the status it recorded, or null when there was nothing to do.
    /// </summary>
    public TenancyReloadStatus? Reload(TenancyReloadTrigger trigger)
    {
        if (File is not { } file)
        {
            return null;
        }

        var forced = trigger == TenancyReloadTrigger.Signal;
        lock (_gate)
        {
            var result = TenancyConfigLoader.Load(file);
            var seen = result.ContentHash ?? "unreadable: " + result.Describe();
            var sameAsLast = seen == _lastSeen;
            _lastSeen = seen;
            if (sameAsLast && !forced)
            {
                return null;
            }

            // The status is recorded last: whoever sees it can rely on the log line and the listeners being done.
            var previous = _current;
            if (result.Outcome == TenancyLoadOutcome.Ok && result.ContentHash == _appliedHash)
            {
                // Back to the content in force (after a failed reading, or on SIGHUP): nothing to swap.
                LogUnchanged(_logger, file, trigger, previous.Fingerprint);
                return Record(trigger, TenancyLoadOutcome.Ok, file, $"unchanged: {Summary(previous)}", previous.Fingerprint, []);
            }

            switch (result.Outcome)
            {
                case TenancyLoadOutcome.Ok:
                    var next = result.Config!;
                    Volatile.Write(ref _current, next);
                    _appliedHash = result.ContentHash;
                    LogReloaded(_logger, file, trigger, next.Groups.Count, next.ApiKeyCount, next.AgentKeyCount, next.AdminKeyNames.Count, next.Fingerprint);
                    RaiseChanged(previous, next);
                    return Record(trigger, TenancyLoadOutcome.Ok, file, Summary(next), next.Fingerprint, []);
                case TenancyLoadOutcome.Invalid:
                    LogInvalid(_logger, file, trigger, previous.Fingerprint, result.Errors.Count, OneLine(result));
                    return Record(trigger, result.Outcome, file, $"invalid, keeping {previous.Fingerprint}: {OneLine(result)}", previous.Fingerprint, result.Errors);
                default:
                    LogUnreadable(_logger, file, trigger, previous.Fingerprint, OneLine(result));
                    return Record(trigger, result.Outcome, file, $"unreadable, keeping {previous.Fingerprint}: {OneLine(result)}", previous.Fingerprint, result.Errors);
            }
        }
    }

    private TenancyReloadStatus Record(TenancyReloadTrigger trigger, TenancyLoadOutcome outcome, string file, string message, string fingerprint, IReadOnlyList<TenancyConfigError> errors)
    {
        var status = new TenancyReloadStatus(_time.GetUtcNow(), trigger, outcome, file, message, fingerprint, errors);
        Volatile.Write(ref _lastReload, status);
        _reloads.Add(1, new KeyValuePair<string, object?>("result", ResultTag(outcome)));
        return status;
    }

    private void RaiseChanged(TenancyConfig previous, TenancyConfig current)
    {
        var handlers = Changed;
        if (handlers is null)
        {
            return;
        }

        // One failing listener must neither stop the others nor undo the reload.
        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<TenancyConfigChangedEventArgs>>())
        {
            try
            {
                handler(this, new TenancyConfigChangedEventArgs(previous, current));
            }
#pragma warning disable CA1031 // a listener's bug is logged, never allowed to break reloading
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogListenerFailed(_logger, ex, current.Fingerprint);
            }
        }
    }

    /// <summary>The metric's <c>result</c> tag values.</summary>
    public static string ResultTag(TenancyLoadOutcome outcome) => outcome switch
    {
        TenancyLoadOutcome.Ok => "ok",
        TenancyLoadOutcome.Invalid => "invalid",
        _ => "unreadable",
    };

    private static string Summary(TenancyConfig config) =>
        $"{config.Groups.Count} groups, {config.ApiKeyCount} API keys, {config.AgentKeyCount} agent keys, {config.AdminKeyNames.Count} admin keys ({config.Fingerprint})";

    private static string OneLine(TenancyLoadResult result) =>
        string.Join("; ", result.Errors.Select(e => e.Path.Length > 0 ? $"{Position(e)}{e.Path}: {e.Reason}" : $"{Position(e)}{e.Reason}"));

    private static string Position(TenancyConfigError error) => error.Line > 0 ? $"line {error.Line}: " : "";
}
