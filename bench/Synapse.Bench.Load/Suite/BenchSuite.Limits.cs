using System.Net.Http.Headers;

namespace Synapse.Bench.Load.Suite;

internal static partial class BenchSuite
{
    private sealed partial class Run
    {
        private static readonly Workload LimitsChat = ChatMany with { Id = LimitsCost.WorkloadId };

        /// <summary>
        /// Issue 15: what limits cost a call. One silo started with a key-groups file, one agent, and the one-silo
        /// phase's chat at 32 callers alternating slices between a key with limits that never refuse and a key
        /// without; everything else (group, usage counting, headers) is the same for both.
        /// </summary>
        private async Task LimitsAsync()
        {
            Phase($"limits: one silo, one agent; chat at 32 callers with a key with limits ({LimitsConfig.Limits}) and a key without, in alternation");
            using var config = LimitsConfig.Write();
            var (silo, url) = await StartSiloAsync("limits-silo", "bench-limits", primarySiloPort: null, transport: null, config.File);
            var agent = StartAgent("limits-agent", settings.AgentDll, url, "bench-agent", LimitsConfig.AgentKey);
            CallTarget[] paths = [new(LimitsCost.PlainPath, url, LimitsConfig.PlainKey), new(LimitsCost.LimitedPath, url, LimitsConfig.LimitedKey)];
            await WaitForModelAsync(paths[0], silo, agent);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            await CheckLimitedAsync(paths[0], limited: false);
            await CheckLimitedAsync(paths[1], limited: true);
            // One round of warm-up is not enough for a difference this small: the first slice measured after it ran
            // 20-30% slower than the rest, with a third more gateway CPU, and a run with no limits on either key put
            // the first key 4-7% behind the second, the size of the target. After a second round such runs came
            // out within 2.5% of each other either way.
            await WarmUpAsync(paths);
            await WarmUpAsync(paths);
            var roles = Roles(("gateway", silo), ("agent", agent), ("upstream", Upstream));
            await MeasureAlternatingAsync(LimitsChat, paths, roles, settings.Slices, transport: null);
            await ProcessSet.StopAsync(agent);
            await ProcessSet.StopAsync(silo);
        }

        /// <summary>
        /// Every answer to a key with limits carries x-ratelimit-* headers and no other does: a file read wrongly
        /// would otherwise have both keys measure the same thing and the cost come out as zero.
        /// </summary>
        private async Task CheckLimitedAsync(CallTarget target, bool limited)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target.Url, "/v1/chat/completions"))
            {
                Content = new StringContent($$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hello"}],"bench_tokens":1}""", MediaTypeHeaderValue.Parse("application/json")),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.ApiKey);
            using var response = await _http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{target.Path}: a chat call answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }

            if (response.Headers.Contains("x-ratelimit-limit-requests") != limited)
            {
                throw new InvalidOperationException($"{target.Path}: the gateway's answer {(limited ? "lacks" : "has")} x-ratelimit-limit-requests; are the key's limits read?");
            }
        }
    }
}
