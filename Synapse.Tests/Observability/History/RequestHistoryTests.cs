using Microsoft.Extensions.Options;
using Synapse.Silo.Observability.History;

namespace Synapse.Tests.Observability.History;

[Trait("Category", "Unit")]
public sealed class RequestHistoryTests
{
    private const long Start = 1_800_000_000;

    private readonly ManualClock _clock = new(Start);

    [Fact]
    public void Record_CallsInOneSecond_ReadAsThatSecondOnceSealed()
    {
        var history = Create();
        history.Record("g", "g/llama", failed: false, timeToFirstTokenSeconds: 0.010, outputTokens: 20);
        history.Record("g", "g/llama", failed: false, timeToFirstTokenSeconds: 0.012, outputTokens: 30);
        history.Record("g", "g/llama", failed: true, timeToFirstTokenSeconds: -1, outputTokens: -1);

        Assert.Equal(Start - 1, history.Read(0, "g/llama").To);

        _clock.Second = Start + 1;
        history.Seal(_clock.Second, new Dictionary<string, int> { ["g/llama"] = 2 });
        var read = history.Read(0, "g/llama");

        Assert.Equal(Start, read.To);
        Assert.Equal(3, read.Requests[^1]);
        Assert.Equal(1, read.Errors[^1]);
        Assert.Equal(50, read.OutputTokens[^1]);
        Assert.Equal(2, read.Queue[^1]);
        Assert.Equal(2, read.TimeToFirstToken.Sum(e => HistoryPacking.Unpack(e).Count));
        Assert.All(read.TimeToFirstToken, e => Assert.Equal(read.Requests.Length - 1, HistoryPacking.Unpack(e).Offset));
        Assert.Equal(3, history.Read(0, model: null).Requests[^1]);
    }

    [Fact]
    public void Read_Since_ReturnsOnlyLaterSeconds()
    {
        var history = Create();
        for (var second = Start; second < Start + 10; second++)
        {
            _clock.Second = second;
            history.Record("g", "g/m", false, 0.001, 1);
            history.Seal(second, queues: null);
        }

        var read = history.Read(Start + 5, model: null);

        Assert.Equal(Start + 6, read.From);
        Assert.Equal(Start + 8, read.To);
        Assert.Equal([1, 1, 1], read.Requests);
        Assert.Equal([-1, -1, -1], read.Queue);
    }

    [Fact]
    public void Seal_LateBySeveralSeconds_KeepsEachSecondApart()
    {
        var history = Create();
        for (var i = 0; i < 5; i++)
        {
            _clock.Second = Start + i;
            for (var call = 0; call <= i; call++)
            {
                history.Record("g", "g/m", false, -1, -1);
            }
        }

        history.Seal(Start + 5, queues: null);

        Assert.Equal([1, 2, 3, 4, 5], history.Read(Start - 1, "g/m").Requests);
    }

    [Fact]
    public void Read_SecondsBeforeTheSiloStarted_AreUnknownNotZero()
    {
        var history = Create();
        _clock.Second = Start + 3;
        history.Seal(_clock.Second, new Dictionary<string, int>());

        var total = history.Read(0, model: null);
        var model = history.Read(0, "g/never-called");

        Assert.Equal(HistoryRing.Seconds, total.Requests.Length);
        Assert.Equal([-1, 0, 0, 0], total.Requests[^4..]);
        Assert.Equal([-1, 0, 0, 0], total.Queue[^4..]);
        Assert.Equal([-1, 0, 0, 0], model.Requests[^4..]);
        Assert.Equal([-1, 0, 0, 0], model.OutputTokens[^4..]);
        Assert.Equal([-1, -1, -1, -1], model.Queue[^4..]);
    }

    [Fact]
    public void Record_ModelsBeyondTheCap_CountInTheTotalOnly()
    {
        var history = Create(maxModels: 2);
        history.Record("g", "g/a", false, -1, -1);
        history.Record("g", "g/b", false, -1, -1);
        history.Record("g", "g/c", false, -1, -1);
        _clock.Second++;
        history.Seal(_clock.Second, queues: null);

        var total = history.Read(0, model: null);
        var capped = history.Read(0, "g/c");

        Assert.Equal(3, total.Requests[^1]);
        Assert.Equal(["g/a", "g/b"], total.Models);
        Assert.True(total.ModelsCapped);
        Assert.Equal(0, capped.Requests[^1]);
    }

    [Fact]
    public void Seal_ModelIdleForTheWholeWindow_IsDroppedAndFreesItsPlace()
    {
        var history = Create(maxModels: 1);
        history.Record("g", "g/old", false, -1, -1);
        for (var i = 0; i <= HistoryRing.Seconds + 1; i++)
        {
            _clock.Second++;
            history.Seal(_clock.Second, queues: null);
        }

        history.Record("g", "g/new", false, -1, -1);
        _clock.Second++;
        history.Seal(_clock.Second, queues: null);

        Assert.Equal(["g/new"], history.Read(0, model: null).Models);
        Assert.Equal(1, history.Read(0, "g/new").Requests[^1]);
    }

    [Fact]
    public void Seal_ModelWithAQueueButNoCalls_IsTracked()
    {
        var history = Create();
        _clock.Second++;
        history.Seal(_clock.Second, new Dictionary<string, int> { ["g/waiting"] = 4, ["g/idle"] = 0 });

        var read = history.Read(0, "g/waiting");

        Assert.Equal(["g/waiting"], read.Models);
        Assert.Equal(4, read.Queue[^1]);
        Assert.Equal(4, history.Read(0, model: null).Queue[^1]);
    }

    [Fact]
    public async Task Record_FromManyThreadsAtOnce_CountsEveryCall()
    {
        var history = Create();
        const int Threads = 4, Calls = 5_000;
        using var start = new Barrier(Threads);
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < Calls; i++)
            {
                history.Record("g", "g/m" + (i % 3), failed: i % 10 == 0, timeToFirstTokenSeconds: (i % 50) / 1000.0, outputTokens: 2);
            }
        })));
        _clock.Second++;
        history.Seal(_clock.Second, queues: null);

        var total = history.Read(0, model: null);
        Assert.Equal(Threads * Calls, total.Requests[^1]);
        Assert.Equal(Threads * Calls / 10, total.Errors[^1]);
        Assert.Equal(2 * Threads * Calls, total.OutputTokens[^1]);
        Assert.Equal(Threads * Calls, total.TimeToFirstToken.Sum(e => HistoryPacking.Unpack(e).Count));
        Assert.Equal(Threads * Calls, new[] { "g/m0", "g/m1", "g/m2" }.Sum(m => history.Read(0, m).Requests[^1]));
    }

    [Fact]
    public void Record_ModelAlreadyKnown_AllocatesNothing()
    {
        var history = Create();
        history.Record("g", "g/known", false, 0.01, 5);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            history.Record("g", "g/known", failed: i % 7 == 0, timeToFirstTokenSeconds: i / 1e5, outputTokens: i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void HistoryRing_OneModel_TakesAbout120KB()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ring = new HistoryRing(Start);
        var size = GC.GetAllocatedBytesForCurrentThread() - before;

        GC.KeepAlive(ring);
        Assert.InRange(size, 110_000, 125_000); // what Synapse:History:MaxModels is documented to cost per model
    }

    [Fact]
    public void HistoryRing_SecondOverwrittenAfterTheWindow_ReadsAsUnknown()
    {
        var ring = new HistoryRing(Start);
        ring.Record(Start, false, 3, 5);
        ring.Seal(Start, queue: 1);
        ring.Record(Start + HistoryRing.Seconds, true, -1, -1);
        ring.Seal(Start + HistoryRing.Seconds, queue: 0);

        int[] requests = new int[1], errors = new int[1], tokens = new int[1], queue = new int[1];
        var ttft = new List<uint>();
        ring.CopyTo(Start, requests, errors, tokens, queue, ttft);
        Assert.Equal((-1, -1, -1, -1), (requests[0], errors[0], tokens[0], queue[0]));
        Assert.Empty(ttft);

        ring.CopyTo(Start + HistoryRing.Seconds, requests, errors, tokens, queue, ttft);
        Assert.Equal((1, 1, 0, 0), (requests[0], errors[0], tokens[0], queue[0]));
    }

    private RequestHistory Create(int maxModels = 32) =>
        new(Options.Create(new HistoryOptions { MaxModels = maxModels }), _clock);
}
