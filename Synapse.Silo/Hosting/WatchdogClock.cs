using System.Diagnostics;

namespace Synapse.Silo.Hosting;

/// <summary>
/// The clock given to Orleans' silo watchdog, whose timestamps count from the watchdog's start instead of from the
/// machine's boot.
/// </summary>
/// <remarks>
/// Orleans 10.4.2's <c>Watchdog.Start</c> starts its platform thread before it sets the participant-check timestamp.
/// The thread's first check then measures the time since timestamp 0, which on Linux is the machine's uptime, and
/// logs "Participant check thread has not completed for &lt;uptime&gt;" (and records it as a health event that
/// degrades the silo's health score for a minute) at nearly every start. With timestamps counted from the first one
/// the watchdog takes (in <c>Start</c>), that uninitialised 0 means "when the watchdog started", which is what Orleans
/// meant. Every later reading is a difference between two timestamps, as with the system clock, so a real stall
/// is reported exactly as before.
/// </remarks>
internal sealed class WatchdogClock : TimeProvider
{
    /// <summary>The type Orleans registers and constructs with a keyed <see cref="TimeProvider"/>.</summary>
    private const string WatchdogTypeName = "Orleans.Runtime.Watchdog";

    private readonly Func<long> _source;
    private long _origin = long.MinValue;

    public WatchdogClock()
        : this(Stopwatch.GetTimestamp)
    {
    }

    /// <param name="source">Raw timestamps at <see cref="Stopwatch.Frequency"/> (tests pass their own).</param>
    internal WatchdogClock(Func<long> source) => _source = source;

    public override long TimestampFrequency => Stopwatch.Frequency;

    public override long GetTimestamp()
    {
        var now = _source();
        var origin = Volatile.Read(ref _origin);
        if (origin == long.MinValue)
        {
            var previous = Interlocked.CompareExchange(ref _origin, now, long.MinValue);
            origin = previous == long.MinValue ? now : previous;
        }

        return now - origin;
    }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow();

    public override TimeZoneInfo LocalTimeZone => System.LocalTimeZone;

    /// <summary>
    /// Has the silo construct its watchdog with a <see cref="WatchdogClock"/>. Returns false, changing nothing, when
    /// Orleans no longer registers the watchdog as expected (the startup test then fails and says so).
    /// </summary>
    public static bool Install(IServiceCollection services)
    {
        var watchdog = typeof(IHealthCheckParticipant).Assembly.GetType(WatchdogTypeName, throwOnError: false);
        var registration = watchdog is null
            ? null
            : services.FirstOrDefault(d => d.ServiceType == watchdog && !d.IsKeyedService && d.ImplementationType == watchdog);
        if (registration is null)
        {
            return false;
        }

        services.Remove(registration);
        services.Add(ServiceDescriptor.Singleton(watchdog!, sp => ActivatorUtilities.CreateInstance(sp, watchdog!, new WatchdogClock())));
        return true;
    }
}
