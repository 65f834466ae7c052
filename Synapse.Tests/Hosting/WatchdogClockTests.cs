using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Synapse.Silo.Hosting;

namespace Synapse.Tests.Hosting;

/// <summary>
/// The clock the silo watchdog reads: Orleans 10.4.2 compares an unset (0) timestamp against it at start, which on
/// the system clock reads as the machine's uptime.
/// </summary>
[Trait("Category", "Unit")]
public sealed class WatchdogClockTests
{
    [Fact]
    public void GetElapsedTime_FromAnUnsetTimestamp_IsTheTimeSinceTheFirstReadingNotTheUptime()
    {
        var raw = 40 * 60 * Stopwatch.Frequency;
        var clock = new WatchdogClock(() => raw);

        var started = clock.GetTimestamp();
        raw += Stopwatch.Frequency / 20;

        Assert.Equal(TimeSpan.FromMilliseconds(50), clock.GetElapsedTime(0));
        Assert.Equal(TimeSpan.FromMilliseconds(50), clock.GetElapsedTime(started));
    }

    [Fact]
    public void GetElapsedTime_BetweenTwoReadings_IsTheRealInterval()
    {
        var raw = 123_456_789L;
        var clock = new WatchdogClock(() => raw);
        clock.GetTimestamp();
        raw += 3 * Stopwatch.Frequency;
        var before = clock.GetTimestamp();
        raw += 31 * Stopwatch.Frequency;

        Assert.Equal(TimeSpan.FromSeconds(31), clock.GetElapsedTime(before));
        Assert.Equal(Stopwatch.Frequency, clock.TimestampFrequency);
    }

    [Fact]
    public void Install_ReplacesOrleansWatchdogRegistration()
    {
        var services = new ServiceCollection();
        services.AddOrleans(silo => silo.UseLocalhostClustering());
        var watchdog = typeof(IHealthCheckParticipant).Assembly.GetType("Orleans.Runtime.Watchdog", throwOnError: true)!;
        var before = Assert.Single(services, d => d.ServiceType == watchdog);

        Assert.True(WatchdogClock.Install(services));

        var after = Assert.Single(services, d => d.ServiceType == watchdog);
        Assert.NotSame(before, after);
        Assert.NotNull(after.ImplementationFactory);
    }
}
