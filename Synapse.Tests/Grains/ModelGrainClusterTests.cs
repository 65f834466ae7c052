using Synapse.Grains.Agents;
using Synapse.Grains.Models;
using Synapse.Protocol.Messages;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Grains;

[Collection(GrainClusterCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ModelGrainClusterTests(GrainClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task ConnectionGrain_KeyedToASilo_IsActivatedOnThatSiloOnly()
    {
        var model = GatewayFixture.UniqueModel();
        foreach (var silo in fixture.Silos)
        {
            var stub = fixture.ConnectionsOn(silo).Add("agent-" + silo.Endpoint.Port, 4, model);

            var result = await Client.GetGrain<IAgentConnectionGrain>(stub.ConnectionId).Send(Request(model, fixture.Silos[0]));

            Assert.Equal(SendResult.Accepted, result);
            Assert.Single(stub.Started);
        }
    }

    [Fact]
    public async Task ConnectionGrain_KeyedToADeadSilo_FailsFastInsteadOfActivatingElsewhere()
    {
        var doomed = await fixture.Cluster.StartAdditionalSiloAsync();
        var stub = fixture.ConnectionsOn(doomed.SiloAddress).Add("agent-doomed", 4, "m");
        await fixture.Cluster.KillSiloAsync(doomed);

        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<Exception>(() =>
            Client.GetGrain<IAgentConnectionGrain>(stub.ConnectionId).Send(Request("m", fixture.Silos[0])));

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));
        Assert.Empty(stub.Started);
    }

    [Fact]
    public async Task ModelGrain_SiloHoldingASocketDies_DropsItOnceMembershipDeclaresItDead()
    {
        var model = GatewayFixture.UniqueModel();
        var doomed = await fixture.Cluster.StartAdditionalSiloAsync();
        var survivor = fixture.ConnectionsOn(fixture.Silos[0]).Add("agent-survivor", 4, model);
        var lost = fixture.ConnectionsOn(doomed.SiloAddress).Add("agent-lost", 4, model);
        var grain = Client.GetGrain<IModelGrain>(model);
        await grain.Register(survivor.Registration(model));
        await grain.Register(lost.Registration(model));
        Assert.Equal(2, (await grain.GetSnapshot()).Instances.Length);

        await fixture.Cluster.KillSiloAsync(doomed);

        await Eventually.UntilAsync(
            async () => (await grain.GetSnapshot()).Instances.Select(i => i.AgentId).SequenceEqual(["agent-survivor"]),
            TimeSpan.FromSeconds(20),
            "the dead silo's socket is dropped");
    }

    [Fact]
    public async Task ModelGrain_ItsOwnSiloDies_RebuildsFromTheSilosHoldingTheSockets()
    {
        var model = GatewayFixture.UniqueModel();
        var host = await fixture.Cluster.StartAdditionalSiloAsync();
        var grain = Client.GetGrain<IModelGrain>(model);
        await fixture.Cluster.MigrateAsync(grain.GetGrainId(), host.SiloAddress);
        var stubs = fixture.Silos.Where(s => !s.Equals(host.SiloAddress)).Select((s, i) => fixture.ConnectionsOn(s).Add($"agent-{i}", 2, model)).ToArray();
        foreach (var stub in stubs)
        {
            await grain.Register(stub.Registration(model));
        }

        Assert.True(fixture.Cluster.TryGetGrainContext(grain.GetGrainId(), out var context));
        Assert.Equal(host.SiloAddress, context.Address.SiloAddress);

        await fixture.Cluster.KillSiloAsync(host);

        // No socket refreshes its registration here: the new activation must ask the silos.
        await Eventually.UntilAsync(
            async () =>
            {
                try
                {
                    return (await grain.GetSnapshot()).Instances.Length == stubs.Length;
                }
                catch (Exception)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(20),
            "the model grain rebuilt its instances");
        var lease = await grain.Acquire(new AcquireRequest { RequestId = 1, CallerSilo = fixture.Silos[0] }, CancellationToken.None);
        Assert.Equal(AcquireStatus.Granted, lease.Status);
    }

    [Fact]
    public async Task ModelGrain_RebuiltWithRequestsInFlight_KeepsCountingThemAgainstCapacity()
    {
        var model = GatewayFixture.UniqueModel();
        var stub = fixture.ConnectionsOn(fixture.Silos[1]).Add("agent-busy", 2, model);
        stub.Active.Add(7);
        stub.Active.Add(8);
        var grain = Client.GetGrain<IModelGrain>(model);

        // A fresh activation adopts the requests the socket reports in flight.
        var snapshot = await grain.GetSnapshot();
        var result = await grain.Acquire(new AcquireRequest { RequestId = 9, CallerSilo = fixture.Silos[0], QueueTimeout = TimeSpan.FromMilliseconds(200) }, CancellationToken.None);

        Assert.Equal(2, snapshot.Instances.Single().InFlight);
        Assert.Equal(AcquireStatus.QueueTimeout, result.Status);
    }

    [Fact]
    public async Task ModelGrain_LeaseNeverReleased_IsReconciledFromTheSocketsReport()
    {
        var model = GatewayFixture.UniqueModel();
        var stub = fixture.ConnectionsOn(fixture.Silos[1]).Add("agent-leak", 4, model);
        var grain = Client.GetGrain<IModelGrain>(model);
        await grain.Register(stub.Registration(model));
        var lease = await grain.Acquire(new AcquireRequest { RequestId = 42, CallerSilo = fixture.Silos[0] }, CancellationToken.None);
        Assert.Equal(AcquireStatus.Granted, lease.Status);
        Assert.Equal(1, (await grain.GetSnapshot()).Instances.Single().InFlight);

        // The caller's silo died before releasing; the socket says request 42 is not in flight.
        await Eventually.UntilAsync(
            async () =>
            {
                await grain.Register(stub.Registration(model));
                return (await grain.GetSnapshot()).Instances.Single().InFlight == 0;
            },
            TimeSpan.FromSeconds(10),
            "the leaked in-flight count returns to 0");
    }

    [Fact]
    public async Task ModelGrain_NeverExceedsCapacity_QueuesInOrderAndHandsFreedSlotsOver()
    {
        var model = GatewayFixture.UniqueModel();
        var stub = fixture.ConnectionsOn(fixture.Silos[0]).Add("agent-cap", 2, model);
        var grain = Client.GetGrain<IModelGrain>(model);
        await grain.Register(stub.Registration(model));
        var caller = fixture.Silos[0];

        var first = await grain.Acquire(new AcquireRequest { RequestId = 1, CallerSilo = caller }, CancellationToken.None);
        var second = await grain.Acquire(new AcquireRequest { RequestId = 2, CallerSilo = caller }, CancellationToken.None);
        var third = grain.Acquire(new AcquireRequest { RequestId = 3, CallerSilo = caller }, CancellationToken.None);
        await Eventually.UntilAsync(async () => (await grain.GetSnapshot()).Queued == 1, TimeSpan.FromSeconds(5), "the third request waits");
        var fourth = grain.Acquire(new AcquireRequest { RequestId = 4, CallerSilo = caller }, CancellationToken.None);
        await Eventually.UntilAsync(async () => (await grain.GetSnapshot()).Queued == 2, TimeSpan.FromSeconds(5), "the fourth request waits");

        Assert.Equal(AcquireStatus.Granted, first.Status);
        Assert.Equal(AcquireStatus.Granted, second.Status);
        Assert.False(third.IsCompleted);

        await grain.Release(1, LeaseOutcome.Success(5));
        Assert.Equal(AcquireStatus.Granted, (await third.WaitAsync(TimeSpan.FromSeconds(5))).Status);
        Assert.False(fourth.IsCompleted, "the fourth came after the third, so it still waits");
        Assert.Equal(2, (await grain.GetSnapshot()).Instances.Single().InFlight);

        await grain.Release(2, LeaseOutcome.Success(5));
        Assert.Equal(AcquireStatus.Granted, (await fourth.WaitAsync(TimeSpan.FromSeconds(5))).Status);
    }

    [Fact]
    public async Task ModelGrain_QueueFull_AnswersQueueFullAndTimedOutWaitersGetQueueTimeout()
    {
        var model = GatewayFixture.UniqueModel();
        // The queue timeout stays well within the registration's lease (2 s here), which nothing refreshes in this test.
        var stub = fixture.ConnectionsOn(fixture.Silos[0]).Add("agent-full", 1, model);
        var grain = Client.GetGrain<IModelGrain>(model);
        await grain.Register(stub.Registration(model));
        var caller = fixture.Silos[0];
        Assert.Equal(AcquireStatus.Granted, (await grain.Acquire(new AcquireRequest { RequestId = 1, CallerSilo = caller }, CancellationToken.None)).Status);

        var waiting = Enumerable.Range(2, 3)
            .Select(i => grain.Acquire(new AcquireRequest { RequestId = i, CallerSilo = caller, QueueTimeout = TimeSpan.FromSeconds(1) }, CancellationToken.None))
            .ToArray();
        await Eventually.UntilAsync(async () => (await grain.GetSnapshot()).Queued == 3, TimeSpan.FromSeconds(5), "three requests wait (the queue's bound)");
        var rejected = await grain.Acquire(new AcquireRequest { RequestId = 9, CallerSilo = caller }, CancellationToken.None);

        Assert.Equal(AcquireStatus.QueueFull, rejected.Status);
        Assert.True(rejected.RetryAfterSeconds >= 1);
        Assert.All(await Task.WhenAll(waiting), r => Assert.Equal(AcquireStatus.QueueTimeout, r.Status));
        Assert.Equal(0, (await grain.GetSnapshot()).Queued);
    }

    [Fact]
    public async Task ModelGrain_CallerCancelsWhileQueued_LeavesTheQueueWithoutTakingASlot()
    {
        var model = GatewayFixture.UniqueModel();
        var stub = fixture.ConnectionsOn(fixture.Silos[0]).Add("agent-cancel", 1, model);
        var grain = Client.GetGrain<IModelGrain>(model);
        await grain.Register(stub.Registration(model));
        var caller = fixture.Silos[0];
        await grain.Acquire(new AcquireRequest { RequestId = 1, CallerSilo = caller }, CancellationToken.None);

        using var cancel = new CancellationTokenSource();
        var waiting = grain.Acquire(new AcquireRequest { RequestId = 2, CallerSilo = caller }, cancel.Token);
        await Eventually.UntilAsync(async () => (await grain.GetSnapshot()).Queued == 1, TimeSpan.FromSeconds(5), "the request waits");
        await cancel.CancelAsync();
        try
        {
            await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (OperationCanceledException)
        {
        }

        await Eventually.UntilAsync(async () => (await grain.GetSnapshot()).Queued == 0, TimeSpan.FromSeconds(5), "the cancelled request left the queue");
        await grain.Release(1, LeaseOutcome.Success(1));
        Assert.Equal(0, (await grain.GetSnapshot()).Instances.Single().InFlight);
    }

    [Fact]
    public async Task SiloDirectory_OfAnAddedSilo_ReportsItsSockets()
    {
        var model = GatewayFixture.UniqueModel();
        var added = await fixture.Cluster.StartAdditionalSiloAsync();
        try
        {
            fixture.ConnectionsOn(added.SiloAddress).Add("agent-new", 4, model);

            var registrations = await Client.GetGrain<ISiloDirectoryGrain>(AgentConnectionKey.ForSilo(added.SiloAddress)).GetRegistrations(model);

            Assert.Equal("agent-new", Assert.Single(registrations).AgentId);
            Assert.Equal(added.SiloAddress, registrations[0].Silo);
        }
        finally
        {
            await fixture.Cluster.StopSiloAsync(added);
        }
    }

    [Fact]
    public async Task ModelGrain_SiloStoppedGracefully_StopsRoutingToItsSockets()
    {
        var model = GatewayFixture.UniqueModel();
        var leaving = await fixture.Cluster.StartAdditionalSiloAsync();
        var stays = fixture.ConnectionsOn(fixture.Silos[0]).Add("agent-stays", 8, model);
        var goes = fixture.ConnectionsOn(leaving.SiloAddress).Add("agent-goes", 8, model);
        var grain = Client.GetGrain<IModelGrain>(model);
        await grain.Register(stays.Registration(model));
        await grain.Register(goes.Registration(model));

        await fixture.Cluster.StopSiloAsync(leaving);

        await Eventually.UntilAsync(
            async () => (await grain.GetSnapshot()).Instances.Length == 1,
            TimeSpan.FromSeconds(20),
            "the stopped silo's socket is gone");
        for (var i = 0; i < 5; i++)
        {
            var lease = await grain.Acquire(new AcquireRequest { RequestId = 100 + i, CallerSilo = fixture.Silos[0] }, CancellationToken.None);
            Assert.Equal("agent-stays", lease.Lease!.AgentId);
        }
    }

    private static RemoteRequest Request(string model, SiloAddress replyTo) => new()
    {
        RequestId = Random.Shared.NextInt64(1, long.MaxValue),
        Model = model,
        Method = "POST",
        PathAndQuery = "/v1/chat/completions",
        Headers = [new HeaderField("Content-Type", "application/json")],
        Body = "{}"u8.ToArray(),
        ReplyTo = replyTo,
    };
}
