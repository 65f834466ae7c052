using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hosting;

/// <summary>
/// Orleans' silo watchdog in a real gateway: quiet on a normal start, still loud when the participant-check thread
/// really stalls. The check period is 1 s here (so the stall threshold is 2 s) to keep the test short.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed partial class WatchdogTests
{
    private const string StallWarning = "Participant check thread has not completed for";

    [Fact]
    public async Task Start_Normal_LogsNoWatchdogWarning()
    {
        var participant = new ControlledParticipant();
        await using var gateway = await StartAsync(participant);

        // The platform thread checks first, as soon as it starts; two rounds of the participant thread later it has
        // checked at least once more.
        await Eventually.UntilAsync(() => participant.Checks >= 2, TimeSpan.FromSeconds(30), "the watchdog checked its participants twice");

        Assert.DoesNotContain(gateway.Log.Lines, l => l.Contains("Orleans.Runtime.Watchdog", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ParticipantCheckThread_Blocked_IsStillReportedWithTheRealDuration()
    {
        var participant = new ControlledParticipant();
        await using var gateway = await StartAsync(participant);
        await Eventually.UntilAsync(() => participant.Checks >= 1, TimeSpan.FromSeconds(30), "the watchdog checked its participants");

        participant.Block();
        try
        {
            await Eventually.UntilAsync(
                () => gateway.Log.Lines.Any(l => l.Contains(StallWarning, StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30),
                "the watchdog reported the blocked participant thread");
        }
        finally
        {
            participant.Release();
        }

        var line = gateway.Log.Lines.First(l => l.Contains(StallWarning, StringComparison.Ordinal));
        Assert.StartsWith("Warning Orleans.Runtime.Watchdog", line, StringComparison.Ordinal);
        var reported = TimeSpan.Parse(Duration().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(reported, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
    }

    private static Task<TestGateway> StartAsync(ControlledParticipant participant) =>
        TestGateway.StartAsync(configure: builder =>
        {
            builder.Services.AddSingleton<IHealthCheckParticipant>(participant);
            builder.Services.Configure<ClusterMembershipOptions>(o => o.LocalHealthDegradationMonitoringPeriod = TimeSpan.FromSeconds(1));
        });

    [GeneratedRegex(StallWarning + @" ([0-9:.]+)")]
    private static partial Regex Duration();

    /// <summary>
    /// A health-check participant that counts the watchdog's rounds and, once told to, blocks the watchdog's own
    /// participant thread (as a deadlocked component would) until released. Other callers never block.
    /// </summary>
    private sealed class ControlledParticipant : IHealthCheckParticipant
    {
        private const string WatchdogThread = "Orleans.Runtime.Watchdog.Component";

        private readonly ManualResetEventSlim _released = new(initialState: true);
        private int _checks;

        public int Checks => Volatile.Read(ref _checks);

        public void Block() => _released.Reset();

        public void Release() => _released.Set();

        public bool CheckHealth(DateTime lastCheckTime, out string reason)
        {
            reason = string.Empty;
            if (Thread.CurrentThread.Name != WatchdogThread)
            {
                return true;
            }

            _released.Wait(TimeSpan.FromSeconds(60));
            Interlocked.Increment(ref _checks);
            return true;
        }
    }
}
