using System.Net.Http.Headers;
using System.Text.Json;

namespace Synapse.Bench.Load.Suite;

internal static partial class BenchSuite
{
    private sealed partial class Run
    {
        private const int FourSilos = 4;
        private const int BalancedAgents = 2;
        private const int SocketsPerAgent = 2;

        /// <summary>
        /// Issue 16: the Helm chart's default (silos behind a Service, agents with two sockets each) scaled out to four
        /// silos. A four-silo cluster behind the bench's round-robin TCP balancer; two agents reaching it through the
        /// balancer with two sockets each (one agent at a time, so their four sockets land on four silos); callers
        /// through the balancer too, so they spread over all four. Measured in alternation with the direct path and
        /// a one-silo gateway with one agent started beside it, chat and 32-token streams at 32 callers.
        /// </summary>
        private async Task FourSilosAsync()
        {
            Phase($"four silos behind a round-robin TCP balancer, {BalancedAgents} agents with {SocketsPerAgent} sockets each and the callers through it; beside one silo with one agent");
            var (one, oneUrl) = await StartSiloAsync("four-one-silo", $"bench-four-one-{_clusters++}", primarySiloPort: null, transport: null);
            var oneAgent = StartAgent("four-one-agent", settings.AgentDll, oneUrl, "bench-agent");
            await WaitForModelAsync(oneUrl, one, oneAgent);

            var cluster = $"bench-four-{_clusters++}";
            var silos = new List<(ChildProcess Process, Uri Url)>();
            for (var i = 1; i <= FourSilos; i++)
            {
                silos.Add(await StartSiloAsync($"four-silo-{i}", cluster, primarySiloPort: i == 1 ? null : _primarySiloPort, transport: null));
            }

            var balancerPort = Ports.Free();
            var balancer = processes.Start("four-balancer", "dotnet",
                [BalancerDll, "balance", "--port", $"{balancerPort}", "--backends", string.Join(',', silos.Select(s => $"127.0.0.1:{s.Url.Port}"))], NoEnvironment);
            var balanced = new Uri($"http://127.0.0.1:{balancerPort}");
            await WaitForAsync("the balancer", () => IsOkAsync(new Uri(balanced, "/readyz")), TimeSpan.FromSeconds(30), balancer);

            var agents = new List<ChildProcess>();
            for (var i = 1; i <= BalancedAgents; i++)
            {
                var id = $"bench-four-agent-{i}";
                var agent = processes.Start($"four-agent-{i}", "dotnet",
                [
                    settings.AgentDll, "--upstream", UpstreamUrl.ToString(), "--server-url", $"ws://127.0.0.1:{balancerPort}/ws",
                    "--max-concurrency", "2000", "--connections", $"{SocketsPerAgent}", "--agent-id", id, "--name", id, "--log-level", "warning",
                ], NoEnvironment);
                agents.Add(agent);
                // One agent at a time: its sockets are the only connections the balancer hands out meanwhile.
                await WaitForAsync($"{id} to hold {SocketsPerAgent} sockets", async () => (await SocketsAsync(silos[0].Url)).GetValueOrDefault(id)?.Length >= SocketsPerAgent,
                    TimeSpan.FromSeconds(60), [.. silos.Select(s => s.Process), agent]);
            }

            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < silos.Count; i++)
            {
                await WaitForModelAsync(silos[i].Url, [silos[i].Process, .. agents]);
                if (await LocalSiloAsync(silos[i].Url) is { } address)
                {
                    names[address] = $"silo-{i + 1}";
                }
            }

            var sockets = await SocketsAsync(silos[0].Url);
            var layout = string.Join("; ", sockets.Where(s => s.Key.StartsWith("bench-four-agent-", StringComparison.Ordinal)).OrderBy(s => s.Key, StringComparer.Ordinal)
                .Select(s => $"{s.Key} on " + string.Join(" and ", s.Value.Select(address => names.GetValueOrDefault(address, address)))));
            Console.WriteLine($"  agent sockets: {layout}");
            report.FourSilosLayout = layout;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);

            CallTarget[] paths = [new("direct", UpstreamUrl), new("one-silo", oneUrl), new("four-silos", balanced)];
            await WarmUpAsync(paths[1..]);

            // Every process is sampled in every slice (the machine's other% stays right), but a path's CPU per request
            // counts only its own: the processes of the other gateway carry an "idle:" prefix in its slices.
            var oneRoles = new[] { ("gateway", one), ("agent", oneAgent) };
            var fourRoles = silos.Select((s, i) => ($"silo-{i + 1}", s.Process)).Concat(agents.Select((a, i) => ($"agent-{i + 1}", a))).Append(("balancer", balancer)).ToArray();
            var upstream = new[] { ("upstream", Upstream) };
            static (string, ChildProcess)[] Idle(IEnumerable<(string Role, ChildProcess Process)> roles) => [.. roles.Select(r => ("idle:" + r.Role, r.Process))];
            var forOne = Roles([.. upstream, .. oneRoles, .. Idle(fourRoles)]);
            var forFour = Roles([.. upstream, .. Idle(oneRoles), .. fourRoles]);
            IReadOnlyDictionary<string, ChildProcess>[] pathRoles = [forOne, forOne, forFour];
            foreach (var workload in new[] { ChatMany, StreamMany })
            {
                await MeasureAlternatingAsync(workload, paths, forOne, settings.Slices, transport: null, pathRoles);
            }

            await ProcessSet.StopAsync(balancer);
            foreach (var agent in agents)
            {
                await ProcessSet.StopAsync(agent);
            }

            foreach (var (silo, _) in Enumerable.Reverse(silos))
            {
                await ProcessSet.StopAsync(silo);
            }

            await ProcessSet.StopAsync(oneAgent);
            await ProcessSet.StopAsync(one);
        }

        private static string BalancerDll => Path.Combine(AppContext.BaseDirectory, "Synapse.Bench.Load.dll");

        /// <summary>The silo's own address as GET /status names it (S127.0.0.1:port:generation).</summary>
        private async Task<string?> LocalSiloAsync(Uri silo)
        {
            using var document = await StatusAsync(silo);
            return document?.RootElement.GetProperty("silos").EnumerateArray().Where(s => s.GetProperty("local").GetBoolean()).Select(s => s.GetProperty("address").GetString()).FirstOrDefault();
        }

        /// <summary>For every instance of the model, the silos its agent holds sockets to (GET /status).</summary>
        private async Task<Dictionary<string, string[]>> SocketsAsync(Uri silo)
        {
            var sockets = new Dictionary<string, string[]>(StringComparer.Ordinal);
            using var document = await StatusAsync(silo);
            if (document is not null)
            {
                foreach (var model in document.RootElement.GetProperty("models").EnumerateArray())
                {
                    if (model.GetProperty("id").GetString() != Model)
                    {
                        continue;
                    }

                    foreach (var instance in model.GetProperty("instances").EnumerateArray())
                    {
                        sockets[instance.GetProperty("agentId").GetString()!] = [.. instance.GetProperty("silos").EnumerateArray().Select(s => s.GetString()!)];
                    }
                }
            }

            return sockets;
        }

        private async Task<JsonDocument?> StatusAsync(Uri silo)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(silo, "/status"));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                using var response = await _http.SendAsync(request, cancellationToken);
                return response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) : null;
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }
    }
}
