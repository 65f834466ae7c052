using System.Diagnostics;

namespace Synapse.Bench.Load.Suite;

internal static partial class BenchSuite
{
    private sealed partial class Run
    {
        /// <summary>
        /// Issue 16: a silo's idle CPU with a thousand agents connected (a hundred with --quick), all in one
        /// Synapse.Bench.Agents process, no traffic; left alone as long as the one-agent idle runs (30 s) before its
        /// CPU is measured over as long (utime + stime from /proc). Its RSS growth per agent then is beside it.
        /// </summary>
        private async Task IdleAgentsAsync(string? transport)
        {
            var count = settings.CapacityAgents;
            Phase($"idle silo, {count} agents connected, no traffic ({settings.IdleWindow.TotalSeconds:0} s after {settings.IdleSettle.TotalSeconds:0} s); relay {TransportName(transport)}");
            var (silo, url) = await StartSiloAsync("idle-agents-silo", $"bench-idle-agents-{_clusters++}", primarySiloPort: null, transport);
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            var rssBefore = silo.RssKb ?? 0;
            var agents = processes.Start("idle-agents", "dotnet",
                [settings.AgentsDll, "--count", $"{count}", "--upstream", UpstreamUrl.ToString(), "--server-url", $"ws://127.0.0.1:{url.Port}/ws", "--prefix", "bench-idle"],
                NoEnvironment);
            await WaitForAsync($"{count} idle agents to register", async () => await ClientCountAsync(url) >= count, TimeSpan.FromSeconds(120), silo, agents);

            await Task.Delay(settings.IdleSettle, cancellationToken);
            var siloBefore = silo.CpuTicks ?? 0;
            var agentsBefore = agents.CpuTicks ?? 0;
            var clock = Stopwatch.StartNew();
            await Task.Delay(settings.IdleWindow, cancellationToken);
            CheckAlive(Roles(("silo", silo), ("agents", agents)));
            var seconds = clock.Elapsed.TotalSeconds;
            var siloPercent = ((silo.CpuTicks ?? siloBefore) - siloBefore) / (double)ProcFs.ClockTicks / seconds * 100;
            var agentsPercent = ((agents.CpuTicks ?? agentsBefore) - agentsBefore) / (double)ProcFs.ClockTicks / seconds * 100;
            var result = new IdleAgentsResult(TransportName(transport), count, await ClientCountAsync(url), siloPercent, agentsPercent, seconds, rssBefore, silo.RssKb ?? 0);
            report.IdleAgents.Add(result);
            Console.WriteLine($"  silo {siloPercent:0.0}% of a core, the agents' process {agentsPercent:0.0}%; silo RSS {Kb(result.SiloRssBeforeKb)} -> {Kb(result.SiloRssAfterKb)} ({result.KbPerAgent:0.0} KiB per agent after settling)");
            await ProcessSet.StopAsync(agents);
            await ProcessSet.StopAsync(silo);
        }
    }
}
