using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Synapse.Grains.Relay;
using Synapse.Grains.Responses;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Grains;

/// <summary>
/// The relay on its own, between silos of the grain cluster, with the transport the silos are configured with
/// (the default): the socket's silo publishes, the caller's silo puts the batches back in order.
/// </summary>
[Collection(GrainClusterCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class RelayTests(GrainClusterFixture fixture)
{
    [Fact]
    public async Task ConcurrentResponses_ToAnotherSilo_EachArrivesCompleteAndInOrder()
    {
        var (socketSilo, callerSilo) = (fixture.Silos[0], fixture.Silos[1]);
        var publisher = Service<RelayPublisher>(socketSilo);
        var table = Service<RemoteResponseTable>(callerSilo);
        var connection = fixture.ConnectionsOn(socketSilo).Add("relay-order", 64, "m");
        var receivers = Enumerable.Range(0, 64).Select(_ => new RecordingReceiver(table.NewRequestId())).ToArray();
        foreach (var receiver in receivers)
        {
            table.Register(receiver, socketSilo);
        }

        // 64 responses written at once, chunk by chunk, from as many threads: the outboxes batch them into shared
        // envelopes while a publish is in flight, and every response must still come out whole and in order.
        var sinks = receivers.Select(r => publisher.CreateSink(r.RequestId, callerSilo, connection)).ToArray();
        await Task.WhenAll(sinks.Select(sink => Task.Run(async () =>
        {
            sink.Write(ResponseEvent.Head(200, []));
            for (var i = 0; i < 300; i++)
            {
                sink.Write(ResponseEvent.BodyOf(Encoding.UTF8.GetBytes($"{i},")));
                if (i % 25 == 0)
                {
                    await Task.Yield();
                }
            }

            sink.Write(ResponseEvent.End());
        })));

        try
        {
            await Eventually.UntilAsync(() => receivers.All(r => r.HasEnded), TimeSpan.FromSeconds(20), "every response ended on the caller's silo");
            var expected = string.Concat(Enumerable.Range(0, 300).Select(i => $"{i},"));
            Assert.All(receivers, r =>
            {
                Assert.Null(r.EndedWith);
                Assert.Equal(1, r.Heads);
                Assert.Equal(expected, r.Body);
            });
            await Eventually.UntilAsync(() => publisher.Active == 0, TimeSpan.FromSeconds(5), "the socket's silo let go of every finished response");
        }
        finally
        {
            foreach (var receiver in receivers)
            {
                table.Remove(receiver.RequestId);
            }
        }
    }

    [Fact]
    public async Task Publishing_ToACallerSiloThatDied_StopsAndCancelsTheUpstream()
    {
        var caller = await fixture.Cluster.StartAdditionalSiloAsync();
        var socketSilo = fixture.Silos[0];
        var publisher = Service<RelayPublisher>(socketSilo);
        var connection = fixture.ConnectionsOn(socketSilo).Add("relay-dead-caller", 4, "m");
        var requestId = Random.Shared.NextInt64(1, long.MaxValue);
        var sink = publisher.CreateSink(requestId, caller.SiloAddress, connection);
        sink.Write(ResponseEvent.Head(200, []));
        await fixture.Cluster.KillSiloAsync(caller);
        var killed = DateTime.UtcNow;

        // The agent keeps answering; nobody is left to read it. Membership declares the silo dead within a few
        // seconds here, which must stop the publishing and abort the upstream well before the retry window ends.
        using var writing = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !writing.IsCancellationRequested; i++)
            {
                sink.Write(ResponseEvent.BodyOf(Encoding.UTF8.GetBytes($"chunk {i}")));
                await Task.Delay(20);
            }
        });
        try
        {
            await Eventually.UntilAsync(() => connection.Cancelled.Contains(requestId), TimeSpan.FromSeconds(12), "the upstream is cancelled");
            Assert.True(DateTime.UtcNow - killed < Service<IOptions<RelayOptions>>(socketSilo).Value.PublishRetryWindow,
                "cancelled because the caller's silo was declared dead, not because the retry window ran out");
            await Eventually.UntilAsync(() => publisher.Active == 0, TimeSpan.FromSeconds(5), "the response is dropped on the socket's silo");
        }
        finally
        {
            await writing.CancelAsync();
            await writer;
        }
    }

    private T Service<T>(SiloAddress silo)
        where T : notnull =>
        fixture.Cluster.GetSiloServiceProvider(silo).GetRequiredService<T>();
}
