using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using System.Net.WebSockets;
using System.Text;
using Synapse.Protocol.Frames;
using Microsoft.Extensions.DependencyInjection;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// An agent that says hello and then never reads: its socket buffers fill, then the gateway's queue for it. The
/// queue is bounded (<c>Synapse:Agents:MaxQueuedBytes</c>, small here): the gateway drops that agent, fails its
/// requests with a JSON error instead of holding them, and keeps serving everyone else.
/// </summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class NeverReadingAgentTests
{
    [Fact]
    public async Task Agent_ThatNeverReads_IsDisconnectedWhenItsQueueFillsAndMemoryStaysFlat()
    {
        await using var gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Gateway:MaxRequestBodyBytes"] = "1048576",
            ["Synapse:Agents:MaxQueuedBytes"] = "262144",
            // The queue must hold one whole frame (validated at start-up): frames no bigger than the queue.
            ["Synapse:Agents:MaxFrameBytes"] = "262144",
            ["Synapse:Agents:HeartbeatInterval"] = "00:00:05",
            ["Synapse:Agents:HeartbeatTimeout"] = "00:00:30",
            ["Synapse:Balancing:QueueTimeout"] = "00:00:05",
            ["Synapse:Balancing:ReconnectGrace"] = "00:00:01",
        },
        configure: builder => builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endpoint =>
        {
            // Accepted sockets inherit the listener's buffer sizes: small ones make the gateway's queue, not the
            // kernel, take the load of an agent that does not read, with little data.
            var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
            socket.SendBufferSize = 16 * 1024;
            return socket;
        }));
        var healthyModel = GatewayFixture.UniqueModel("healthy");
        await using var upstream = await FakeUpstream.StartAsync("healthy", healthyModel);
        await using var healthy = await TestAgent.StartServingAsync(gateway, upstream, healthyModel);
        using var client = gateway.CreateClient();
        var padding = new string('p', 64 * 1024);

        // One model throughout, so that what stays behind between rounds is only what the deaf sockets leave.
        var model = GatewayFixture.UniqueModel("deaf");

        await ManagedMemory.AssertBoundedAsync(
            async _ =>
            {
                var agentId = "deaf-" + Guid.NewGuid().ToString("N")[..6];
                using var invoker = SmallReceiveBuffer();
                await using var deaf = await RawAgent.ConnectAsync(gateway.WsUrl, invoker: invoker);
                await deaf.SendHelloAsync(RawAgent.Hello(agentId, model) with { Capacity = 64 });
                Assert.NotNull(await deaf.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));
                await TestAgent.WaitForModelAsync(gateway, model, 1);

                // 16 requests of 64 KB for the agent that reads nothing: beyond what the sockets' buffers hold.
                var calls = Enumerable.Range(0, 16).Select(async _ =>
                {
                    using var response = await client.PostAsync(
                        new Uri("/v1/chat/completions", UriKind.Relative),
                        new StringContent($$"""{"model":"{{model}}","pad":"{{padding}}"}""", Encoding.UTF8, "application/json"));
                    Assert.True((int)response.StatusCode >= 500, $"a request for the deaf agent answered {(int)response.StatusCode}");
                    await Json.ReadErrorCodeAsync(response);
                });
                await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));

                Assert.Contains(gateway.Log.Lines, l => l.Contains(agentId, StringComparison.Ordinal) && l.Contains("SendQueueFull", StringComparison.Ordinal));
                Assert.False(await StillOpenAsync(deaf), "the gateway closed the deaf agent's socket");
                Assert.Equal(System.Net.HttpStatusCode.OK, await ChatCalls.PostAsync(client, healthyModel));
            },
            rounds: 3);
    }

    [Fact]
    public async Task Agents_ThatNeverRead_AreCutAtTheSilosSharedBudgetWhileAHealthyAgentUnderItsShareKeepsServing()
    {
        // Each socket alone may queue 32 MiB; all together only 1 MiB.
        await using var gateway = await SmallBuffersGatewayAsync(new Dictionary<string, string?>
        {
            ["Synapse:Agents:MaxTotalQueuedBytes"] = "1048576",
        });
        var healthyModel = GatewayFixture.UniqueModel("healthy");
        await using var upstream = await FakeUpstream.StartAsync("healthy", healthyModel);
        await using var healthy = await TestAgent.StartServingAsync(gateway, upstream, healthyModel);
        using var client = gateway.CreateClient();
        var padding = new string('p', 64 * 1024);

        var deafAgents = new List<(RawAgent Raw, HttpMessageInvoker Invoker, string Id, string Model)>();
        for (var i = 0; i < 3; i++)
        {
            var invoker = SmallReceiveBuffer();
            var raw = await RawAgent.ConnectAsync(gateway.WsUrl, invoker: invoker);
            var id = "deaf-" + Guid.NewGuid().ToString("N")[..6];
            var model = GatewayFixture.UniqueModel("deaf");
            await raw.SendHelloAsync(RawAgent.Hello(id, model) with { Capacity = 64 });
            Assert.NotNull(await raw.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));
            deafAgents.Add((raw, invoker, id, model));
        }

        // Every deaf model listed before any call: a deaf agent is cut after its first calls, and a call still
        // waiting for its model then would wait for a model that is gone.
        foreach (var deaf in deafAgents)
        {
            await TestAgent.WaitForModelAsync(gateway, deaf.Model, 1);
        }

        // 24 requests of 64 KB for each agent that reads nothing: 1.5 MB each, beyond the shared budget.
        var calls = deafAgents.SelectMany(d => Enumerable.Range(0, 24).Select(async _ =>
        {
            using var response = await client.PostAsync(
                new Uri("/v1/chat/completions", UriKind.Relative),
                new StringContent($$"""{"model":"{{d.Model}}","pad":"{{padding}}"}""", Encoding.UTF8, "application/json"));
            Assert.True((int)response.StatusCode >= 500, $"a request for a deaf agent answered {(int)response.StatusCode}");
        }));
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60));

        foreach (var deaf in deafAgents)
        {
            Assert.Contains(gateway.Log.Lines, l => l.Contains(deaf.Id, StringComparison.Ordinal) && l.Contains("SendQueueFull", StringComparison.Ordinal));
            Assert.False(await StillOpenAsync(deaf.Raw), "the gateway closed the deaf agent's socket");
            await deaf.Raw.DisposeAsync();
            deaf.Invoker.Dispose();
        }

        Assert.Equal(1, (int)healthy.App.ConnectedCount);
        Assert.Equal(System.Net.HttpStatusCode.OK, await ChatCalls.PostAsync(client, healthyModel));
        Assert.Equal(0, gateway.Services.GetRequiredService<Silo.Agents.AgentSessionServices>().SendBudget.UsedBytes);
    }

    [Fact]
    public async Task Agent_ThatKeepsSendingButNeverReads_IsCutWhenASendStallsForTheHeartbeatTimeout()
    {
        // A per-socket limit too large to be reached: only the stalled send can tell this agent stopped reading.
        await using var gateway = await SmallBuffersGatewayAsync(new Dictionary<string, string?>
        {
            ["Synapse:Agents:MaxQueuedBytes"] = "1073741824",
            ["Synapse:Agents:HeartbeatInterval"] = "00:00:01",
            ["Synapse:Agents:HeartbeatTimeout"] = "00:00:03",
        });
        using var client = gateway.CreateClient();
        using var invoker = SmallReceiveBuffer();
        await using var deaf = await RawAgent.ConnectAsync(gateway.WsUrl, invoker: invoker);
        var agentId = "stalled-" + Guid.NewGuid().ToString("N")[..6];
        var model = GatewayFixture.UniqueModel("stalled");
        await deaf.SendHelloAsync(RawAgent.Hello(agentId, model) with { Capacity = 64 });
        Assert.NotNull(await deaf.ReceiveFrameAsync(FrameType.Welcome, TimeSpan.FromSeconds(5)));
        await TestAgent.WaitForModelAsync(gateway, model, 1);

        // Its pings say it is alive; it reads nothing.
        using var stop = new CancellationTokenSource();
        var pinging = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await deaf.SendAsync(FrameCodec.Ping(FrameType.Ping, 1));
                    await Task.Delay(200, stop.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
            }
        });
        var padding = new string('p', 64 * 1024);
        var calls = Enumerable.Range(0, 16).Select(async _ =>
        {
            using var response = await client.PostAsync(
                new Uri("/v1/chat/completions", UriKind.Relative),
                new StringContent($$"""{"model":"{{model}}","pad":"{{padding}}"}""", Encoding.UTF8, "application/json"));
            Assert.True((int)response.StatusCode >= 500, $"a request for the stalled agent answered {(int)response.StatusCode}");
        });

        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));
        stop.Cancel();
        await pinging;

        Assert.Contains(gateway.Log.Lines, l => l.Contains(agentId, StringComparison.Ordinal) && l.Contains("SendStalled", StringComparison.Ordinal));
    }

    private static Task<TestGateway> SmallBuffersGatewayAsync(Dictionary<string, string?> settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Synapse:Gateway:MaxRequestBodyBytes"] = "1048576",
            ["Synapse:Agents:HeartbeatInterval"] = "00:00:05",
            ["Synapse:Agents:HeartbeatTimeout"] = "00:00:30",
            ["Synapse:Balancing:QueueTimeout"] = "00:00:05",
            ["Synapse:Balancing:ReconnectGrace"] = "00:00:01",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return TestGateway.StartAsync(all, configure: builder => builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endpoint =>
        {
            var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
            socket.SendBufferSize = 16 * 1024;
            return socket;
        }));
    }

    /// <summary>
    /// A socket with a small, fixed receive buffer: loopback would otherwise let the kernel buffer tens of MB for
    /// the agent before the gateway noticed anything.
    /// </summary>
    private static HttpMessageInvoker SmallReceiveBuffer() => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 8 * 1024, NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });

    /// <summary>The deaf agent finally reads: it finds the gateway gone (after whatever was already in its buffers).</summary>
    private static async Task<bool> StillOpenAsync(RawAgent deaf)
    {
        try
        {
            while (await deaf.ReceiveAsync(TimeSpan.FromSeconds(5)) is not null)
            {
            }

            return false;
        }
        catch (WebSocketException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }
}
