using System.Net.WebSockets;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Transport;

namespace Synapse.Tests.Unit.Protocol.Transport;

/// <summary>
/// The bytes every agent socket of a silo may hold in send queues together. The connections here are never run, so
/// whatever they are given to send stays queued: exactly the peer that stops reading.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SendQueueBudgetTests
{
    private const int Chunk = 4096;

    /// <summary>What one more frame costs, measured on a connection of its own the way the budget counts it.</summary>
    private static readonly long FrameCost = MeasureFrameCost();

    [Fact]
    public void TakeAndGive_QueuedFramesTakeTheirCostAndAClosedConnectionGivesItBack()
    {
        var budget = new SendQueueBudget(1_000_000);
        var connection = Connection(budget);

        Assert.True(connection.TrySend(Frame()));
        Assert.True(connection.TrySend(Frame()));

        Assert.True(connection.QueuedBytes > 2 * Chunk, "a queued frame costs at least its bytes");
        Assert.Equal(connection.QueuedBytes, budget.UsedBytes);

        connection.Dispose();
        Assert.Equal(0, budget.UsedBytes);
    }

    [Fact]
    public void ShareBytes_IsTheLimitDividedAmongTheConnectionsPresent()
    {
        var budget = new SendQueueBudget(900_000);
        Assert.Equal(900_000, budget.ShareBytes);

        var a = Connection(budget);
        var b = Connection(budget);
        var c = Connection(budget);
        Assert.Equal(300_000, budget.ShareBytes);

        c.Dispose();
        Assert.Equal(450_000, budget.ShareBytes);
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public void TrySend_WhenTheBudgetIsFull_CutsTheConnectionOverItsShareNotTheOneUnderIt()
    {
        var budget = new SendQueueBudget(64 * 1024);
        var hog = Connection(budget);
        var polite = Connection(budget);
        while (budget.UsedBytes + FrameCost <= budget.LimitBytes)
        {
            Assert.True(hog.TrySend(Frame()));
        }

        // The polite peer's frame overflows the budget, but it holds far less than its share: the hog goes.
        Assert.True(polite.TrySend(Frame()));

        Assert.Equal(ConnectionClosedReason.SendQueueFull, hog.ClosedReason);
        Assert.True(hog.Aborted.IsCancellationRequested);
        Assert.Equal(ConnectionClosedReason.None, polite.ClosedReason);
        Assert.False(polite.Aborted.IsCancellationRequested);

        // The hog's queue comes back as it closes; the polite peer keeps what it queued.
        hog.Dispose();
        Assert.Equal(polite.QueuedBytes, budget.UsedBytes);
        polite.Dispose();
    }

    [Fact]
    public void TrySend_FromTheConnectionOverItsShareWhenTheBudgetIsFull_CutsItAndTakesNothing()
    {
        var budget = new SendQueueBudget(64 * 1024);
        var hog = Connection(budget);
        var quiet = Connection(budget);
        while (budget.UsedBytes + FrameCost <= budget.LimitBytes)
        {
            Assert.True(hog.TrySend(Frame()));
        }

        var before = budget.UsedBytes;
        Assert.False(hog.TrySend(Frame()));

        Assert.Equal(ConnectionClosedReason.SendQueueFull, hog.ClosedReason);
        Assert.Equal(before, budget.UsedBytes);
        Assert.Equal(ConnectionClosedReason.None, quiet.ClosedReason);
        hog.Dispose();
        quiet.Dispose();
    }

    [Fact]
    public void TrySend_ManyConnectionsUnderTheirShare_AreAllServed()
    {
        var budget = new SendQueueBudget(1_000_000);
        var connections = Enumerable.Range(0, 8).Select(_ => Connection(budget)).ToArray();

        foreach (var connection in connections)
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.True(connection.TrySend(Frame()));
            }
        }

        Assert.All(connections, c => Assert.Equal(ConnectionClosedReason.None, c.ClosedReason));
        Assert.Equal(connections.Sum(c => c.QueuedBytes), budget.UsedBytes);
        foreach (var connection in connections)
        {
            connection.Dispose();
        }

        Assert.Equal(0, budget.UsedBytes);
    }

    private static FramedConnection Connection(SendQueueBudget budget) =>
        new(WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions { IsServer = true }), new FramedConnectionOptions { SharedBudget = budget });

    private static long MeasureFrameCost()
    {
        using var probe = new FramedConnection(WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions { IsServer = true }), new FramedConnectionOptions());
        probe.TrySend(Frame());
        return probe.QueuedBytes;
    }

    private static Frame Frame() => FrameCodec.ResponseBody(1, new byte[Chunk]);
}
