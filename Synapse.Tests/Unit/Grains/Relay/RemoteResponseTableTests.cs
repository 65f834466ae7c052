using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Synapse.Grains.Relay;
using Synapse.Grains.Responses;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Unit.Grains.Relay;

/// <summary>
/// On the caller's silo, responses relayed from the silo holding the agent's socket: batches numbered per request
/// reach the caller in order and once, and a path that lost batches or went silent fails its response at once.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RemoteResponseTableTests
{
    private static readonly TimeSpan Long = TimeSpan.FromHours(1);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly SiloAddress SiloB = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);
    private static readonly SiloAddress SiloC = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11113), 1);

    [Fact]
    public void Deliver_BatchesInOrder_ReachTheCallerInOrder()
    {
        var table = Table();
        var receiver = Registered(table, 5);

        table.Deliver(Batch(5, 0, ResponseEvent.Head(200, []), Body("a")));
        table.Deliver(Batch(5, 1, Body("b"), Body("c")));
        table.Deliver(Batch(5, 2, Body("d"), ResponseEvent.End()));

        Assert.Equal("abcd", receiver.Body);
        Assert.Equal(ResponseEventKind.Head, receiver.Events[0].Kind);
        Assert.True(receiver.End?.IsSuccessfulEnd);
    }

    [Fact]
    public void Deliver_GapInTheSequence_FailsTheResponseWithRelayInterruptedAndDropsWhatCamePastIt()
    {
        var table = Table();
        var receiver = Registered(table, 5);

        table.Deliver(Batch(5, 0, ResponseEvent.Head(200, []), Body("a")));
        table.Deliver(Batch(5, 2, Body("c")));

        Assert.Equal(GatewayErrorCodes.RelayInterrupted, receiver.End?.ErrorCode);
        Assert.Equal("a", receiver.Body);
    }

    [Fact]
    public void Deliver_GapInTheSequence_SuspectsTheShardSoNewRequestsAvoidIt()
    {
        var table = Table();
        const long requestId = 3;
        var shard = RelayStreams.ShardOf(requestId);
        Registered(table, requestId);
        Assert.Contains(shard, ShardsOfNewRequests(table));

        table.Deliver(Batch(requestId, 1, Body("b")));

        Assert.DoesNotContain(shard, ShardsOfNewRequests(table));
        Assert.Equal(RelayStreams.InboxShards - 1, ShardsOfNewRequests(table).Distinct().Count());
    }

    [Fact]
    public void Deliver_DuplicateBatch_IsDroppedAndTheResponseGoesOn()
    {
        var table = Table();
        var receiver = Registered(table, 5);

        table.Deliver(Batch(5, 0, Body("a")));
        table.Deliver(Batch(5, 1, Body("b")));
        table.Deliver(Batch(5, 1, Body("b")));
        table.Deliver(Batch(5, 0, Body("a")));
        table.Deliver(Batch(5, 2, Body("c"), ResponseEvent.End()));

        Assert.Equal("abc", receiver.Body);
        Assert.True(receiver.End?.IsSuccessfulEnd);
    }

    [Fact]
    public void Deliver_BatchesReordered_FailTheResponseRatherThanReachTheCallerOutOfOrder()
    {
        // Memory streams keep order: a batch ahead of its turn means the ones before it were lost.
        var table = Table();
        var receiver = Registered(table, 5);

        table.Deliver(Batch(5, 0, Body("a")));
        table.Deliver(Batch(5, 2, Body("c")));
        table.Deliver(Batch(5, 1, Body("b")));
        table.Deliver(Batch(5, 3, Body("d"), ResponseEvent.End()));

        Assert.Equal(GatewayErrorCodes.RelayInterrupted, receiver.End?.ErrorCode);
        Assert.Equal("a", receiver.Body);
    }

    [Fact]
    public void Deliver_Keepalive_WritesNothingAndTakesNoSequenceNumber()
    {
        var table = Table();
        var receiver = Registered(table, 5);

        table.Deliver(KeepAlive(5));
        table.Deliver(Batch(5, 0, Body("a")));
        table.Deliver(KeepAlive(5));
        table.Deliver(KeepAlive(5));
        table.Deliver(Batch(5, 1, Body("b"), ResponseEvent.End()));

        Assert.Equal("ab", receiver.Body);
        Assert.True(receiver.End?.IsSuccessfulEnd);
    }

    [Fact]
    public void Deliver_UnknownOrRemovedRequest_IsIgnoredAndOthersAreUntouched()
    {
        var table = Table();
        var kept = Registered(table, 5);
        var removed = Registered(table, 6);
        table.Remove(6);

        table.Deliver(Batch(6, 0, Body("late")));
        table.Deliver(Batch(404, 0, Body("stray")));
        table.Deliver(Batch(404, 7, Body("stray")));
        table.Deliver(Batch(5, 0, Body("a")));

        Assert.Empty(removed.Events);
        Assert.False(removed.HasEnded);
        Assert.Equal("a", kept.Body);
        Assert.False(kept.HasEnded);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void FailAllFrom_DeadSilo_FailsOnlyTheResponsesComingFromItWithGatewayNodeLost()
    {
        var table = Table();
        var fromB1 = Registered(table, 1, SiloB);
        var fromB2 = Registered(table, 2, SiloB);
        var fromC = Registered(table, 3, SiloC);

        var failed = table.FailAllFrom(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1));

        Assert.Equal(2, failed);
        Assert.Equal(GatewayErrorCodes.GatewayNodeLost, fromB1.End?.ErrorCode);
        Assert.Equal(GatewayErrorCodes.GatewayNodeLost, fromB2.End?.ErrorCode);
        Assert.False(fromC.HasEnded);
    }

    [Fact]
    public void FailAllFrom_ANewGenerationOfTheSameAddress_IsAnotherSilo()
    {
        var table = Table();
        var receiver = Registered(table, 1, SiloB);

        Assert.Equal(0, table.FailAllFrom(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 2)));
        Assert.False(receiver.HasEnded);
    }

    [Fact]
    public void FailStalled_WithinEveryTimeout_FailsNothing()
    {
        var table = Table(o => { o.AcceptTimeout = Long; o.StallTimeout = Long; });
        var unheard = Registered(table, 1);
        var heard = Registered(table, 2);
        table.Deliver(KeepAlive(2));

        Assert.Equal(0, table.FailStalled());
        Assert.False(unheard.HasEnded || heard.HasEnded);
    }

    [Fact]
    public async Task FailStalled_NothingHeardWithinTheAcceptTimeout_FailsTheResponse()
    {
        var table = Table(o => { o.AcceptTimeout = Short; o.StallTimeout = Long; });
        var unheard = Registered(table, 1);
        var accepted = Registered(table, 2);
        table.Deliver(KeepAlive(2));

        await WatchdogUntilAsync(table, () => unheard.HasEnded, "the unaccepted response is given up");

        Assert.Equal(GatewayErrorCodes.RelayInterrupted, unheard.End?.ErrorCode);
        // The other one proved its path with a keepalive: only the (long) stall timeout applies to it.
        Assert.False(accepted.HasEnded);
    }

    [Fact]
    public async Task FailStalled_SilentForTheStallTimeoutAfterBeingHeard_FailsTheResponse()
    {
        var table = Table(o => { o.AcceptTimeout = Long; o.StallTimeout = Short; });
        var flowing = Registered(table, 1);
        var unheard = Registered(table, 2);
        table.Deliver(Batch(1, 0, ResponseEvent.Head(200, []), Body("a")));

        await WatchdogUntilAsync(table, () => flowing.HasEnded, "the silent response is given up");

        Assert.Equal(GatewayErrorCodes.RelayInterrupted, flowing.End?.ErrorCode);
        Assert.Equal("a", flowing.Body);
        Assert.False(unheard.HasEnded);
    }

    [Fact]
    public async Task FailStalled_ResponseThatAlreadyEnded_IsNotFailedAgain()
    {
        var table = Table(o => { o.AcceptTimeout = Short; o.StallTimeout = Short; });
        var finished = Registered(table, 1);
        table.Deliver(Batch(1, 0, Body("a"), ResponseEvent.End()));
        var probe = Registered(table, 2);

        // Once the probe, registered later, is stalled, the finished one has been silent longer still.
        await WatchdogUntilAsync(table, () => probe.HasEnded, "the probe is given up");

        Assert.Equal(1, finished.EndsOffered);
        Assert.True(finished.End?.IsSuccessfulEnd);
    }

    [Fact]
    public async Task FailStalled_StalledResponse_SuspectsItsShard()
    {
        var table = Table(o => { o.AcceptTimeout = Short; o.StallTimeout = Long; });
        const long requestId = 6;
        var receiver = Registered(table, requestId);

        await WatchdogUntilAsync(table, () => receiver.HasEnded, "the response is given up");

        Assert.DoesNotContain(RelayStreams.ShardOf(requestId), ShardsOfNewRequests(table));
    }

    [Fact]
    public async Task FailStalled_AfterTheClusterChanged_GivesSilentPathsUpSooner()
    {
        var table = Table(o =>
        {
            o.AcceptTimeout = Long;
            o.StallTimeout = Long;
            o.SettlingAcceptTimeout = Short;
            o.SettlingStallTimeout = Short;
            o.SettlingPeriod = Long;
        });
        var unheard = Registered(table, 1);
        var heard = Registered(table, 2);
        table.Deliver(KeepAlive(2));
        Assert.Equal(0, table.FailStalled());

        table.ClusterChanged();

        await WatchdogUntilAsync(table, () => unheard.HasEnded && heard.HasEnded, "both silent responses are given up");
        Assert.Equal(GatewayErrorCodes.RelayInterrupted, unheard.End?.ErrorCode);
        Assert.Equal(GatewayErrorCodes.RelayInterrupted, heard.End?.ErrorCode);
    }

    [Fact]
    public void NewRequestId_IsPositiveAndSpreadOverEveryShard()
    {
        var table = Table();
        var ids = Enumerable.Range(0, 2000).Select(_ => table.NewRequestId()).ToArray();

        Assert.All(ids, id => Assert.True(id > 0));
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Equal(RelayStreams.InboxShards, ids.Select(RelayStreams.ShardOf).Distinct().Count());
    }

    private static RemoteResponseTable Table(Action<RelayOptions>? configure = null)
    {
        var options = new RelayOptions { SuspectShardPeriod = Long };
        configure?.Invoke(options);
        return new RemoteResponseTable(Options.Create(options), NullLogger<RemoteResponseTable>.Instance);
    }

    /// <summary>Runs the stall check as the silo's watchdog does, every few milliseconds, until <paramref name="done"/>.</summary>
    private static Task WatchdogUntilAsync(RemoteResponseTable table, Func<bool> done, string because) =>
        Eventually.UntilAsync(
            () =>
            {
                table.FailStalled();
                return done();
            },
            Deadline,
            because);

    private static RecordingReceiver Registered(RemoteResponseTable table, long requestId, SiloAddress? source = null)
    {
        var receiver = new RecordingReceiver(requestId);
        table.Register(receiver, source ?? SiloB);
        return receiver;
    }

    private static List<int> ShardsOfNewRequests(RemoteResponseTable table) =>
        [.. Enumerable.Range(0, 2000).Select(_ => RelayStreams.ShardOf(table.NewRequestId()))];

    private static RelayBatch Batch(long requestId, int sequence, params ResponseEvent[] events) =>
        new() { RequestId = requestId, Sequence = sequence, Events = events };

    private static RelayBatch KeepAlive(long requestId) => Batch(requestId, RelayBatch.KeepAliveSequence);

    private static ResponseEvent Body(string text) => ResponseEvent.BodyOf(Encoding.UTF8.GetBytes(text));
}
