using Microsoft.Extensions.Options;
using Synapse.Grains.Relay;
using Synapse.Silo.Agents;
using Synapse.Silo.Hosting;

namespace Synapse.Silo.Cluster;

/// <summary>
/// Graceful shutdown, before the silo leaves: readiness turns false, new API calls are refused, agents are told to
/// move, and whatever is in flight gets up to the drain timeout to finish. It runs in <c>StoppingAsync</c>, which
/// the host calls before it stops any service, so Kestrel and the silo are both still up while streams finish.
/// </summary>
internal sealed partial class DrainCoordinator(
    GatewayState state,
    AgentSessionRegistry sessions,
    RelayPublisher relay,
    IOptions<GatewayOptions> options,
    ILogger<DrainCoordinator> logger) : IHostedLifecycleService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        state.MarkDraining();
        var timeout = options.Value.DrainTimeout;
        LogDraining(logger, state.InFlight, sessions.Count, timeout.TotalSeconds);
        foreach (var session in sessions.Sessions)
        {
            session.GoAway("gateway node shutting down");
        }

        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Environment.TickCount64 < deadline && !cancellationToken.IsCancellationRequested && Busy())
        {
            await Task.Delay(100, CancellationToken.None);
        }

        var left = state.InFlight + relay.Active + sessions.Sessions.Sum(s => s.InFlight);
        foreach (var session in sessions.Sessions)
        {
            session.Abort("gateway node stopped");
        }

        LogDrained(logger, left);
    }

    private bool Busy() =>
        state.InFlight > 0 || relay.Active > 0 || sessions.Sessions.Any(s => s.InFlight > 0);

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: {InFlight} API requests in flight, {Agents} agent sockets; waiting up to {Seconds} s")]
    private static partial void LogDraining(ILogger logger, long inFlight, int agents, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained; {Left} requests were still in flight and were cut")]
    private static partial void LogDrained(ILogger logger, long left);
}
