using System.Globalization;
using System.Net;
using System.Text;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.EndToEnd;

/// <summary>Both programs as real processes, every key read from a file as an operator would mount it.</summary>
[Trait("Category", "Process")]
public sealed class KeyFileProcessTests
{
    [Fact]
    public async Task KeysFromFiles_AreEnforcedUsedAndNeverPrintedByEitherProcess()
    {
        const string apiKey = "file-api-key-4d2e";
        const string wsKey = "file-ws-key-9a81";
        const string upstreamKey = "file-upstream-key-77c3";
        var folder = Directory.CreateTempSubdirectory("synapse-keys-");
        try
        {
            string Write(string name, string key)
            {
                var path = Path.Combine(folder.FullName, name);
                File.WriteAllText(path, key + "\n");
                return path;
            }

            var model = GatewayFixture.UniqueModel();
            await using var upstream = await FakeUpstream.StartAsync("u1", model);
            upstream.RequiredApiKey = upstreamKey;
            var port = FreePorts.Next();
            await using var gateway = ProductProcess.Start(
                ProductProcess.Gateway,
                [
                    "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
                    "--silo-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture), "--gateway-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                    "--api-auth-key-file", Write("api", apiKey), "--ws-auth-key-file", Write("ws", wsKey),
                ]);
            await using var agent = ProductProcess.Start(
                ProductProcess.Agent,
                [
                    "--upstream", upstream.Url, "--server-url", $"ws://127.0.0.1:{port}/ws",
                    "--ws-auth-key-file", Write("agent-ws", wsKey), "--upstream-api-key-file", Write("upstream", upstreamKey),
                ]);
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
            await Eventually.UntilAsync(
                async () =>
                {
                    try
                    {
                        return (await client.GetAsync(new Uri($"/v1/models/{model}", UriKind.Relative))).IsSuccessStatusCode;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                TimeSpan.FromSeconds(30),
                "the agent, holding the key from its file, registered");

            using var unauthorized = new HttpClient { BaseAddress = client.BaseAddress };
            Assert.Equal(HttpStatusCode.Unauthorized, (await unauthorized.GetAsync(new Uri("/v1/models", UriKind.Relative))).StatusCode);
            using var answer = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent($$"""{"model":"{{model}}"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal($"Bearer {upstreamKey}", upstream.Requests.Single(r => r.Path == "/v1/chat/completions").Headers["Authorization"]);
            foreach (var key in new[] { apiKey, wsKey, upstreamKey })
            {
                Assert.DoesNotContain(key, gateway.Output, StringComparison.Ordinal);
                Assert.DoesNotContain(key, agent.Output, StringComparison.Ordinal);
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
