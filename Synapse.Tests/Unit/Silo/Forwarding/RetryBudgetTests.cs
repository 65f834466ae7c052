using System.Net;
using Synapse.Grains.Models;
using Synapse.Silo.Forwarding;

namespace Synapse.Tests.Unit.Silo.Forwarding;

/// <summary>What one request may still try after a failure before its answer: another instance, or another path.</summary>
[Trait("Category", "Unit")]
public sealed class RetryBudgetTests
{
    private static readonly TimeSpan LongWindow = TimeSpan.FromHours(1);

    [Fact]
    public void TryRetry_InstanceFailures_AllowMaxAttemptsInAllEachOnAnotherInstance()
    {
        var budget = new RetryBudget(maxInstanceAttempts: 3, maxPathRetries: 5, LongWindow);

        Assert.True(budget.TryRetry(new Failure(ForwarderError.UpstreamUnreachable), Lease("a1", "c1")));
        Assert.True(budget.TryRetry(new Failure(ForwarderError.UpstreamUnavailable), Lease("a2", "c2")));
        Assert.False(budget.TryRetry(new Failure(ForwarderError.AgentDraining), Lease("a3", "c3")));

        Assert.Equal(["a1", "a2", "a3"], budget.ExcludedAgents);
        Assert.Empty(budget.ExcludedConnections);
        Assert.Equal(3, budget.Failures);
        Assert.True(budget.AnyExcluded);
    }

    [Fact]
    public void MayTryAnotherInstance_IsFalseOnceTheNextInstanceFailureWouldBeTheLast()
    {
        var budget = new RetryBudget(maxInstanceAttempts: 3, maxPathRetries: 5, LongWindow);

        Assert.True(budget.MayTryAnotherInstance);
        budget.TryRetry(new Failure(ForwarderError.UpstreamInvalidResponse), Lease("a1", "c1"));
        Assert.True(budget.MayTryAnotherInstance);
        budget.TryRetry(new Failure(ForwarderError.UpstreamInvalidResponse), Lease("a2", "c2"));

        // The third attempt is the last: a 502/503 from it goes to the caller as it is.
        Assert.False(budget.MayTryAnotherInstance);
    }

    [Fact]
    public void MayTryAnotherInstance_WithOneAttemptAllowed_IsFalseFromTheStart()
    {
        Assert.False(new RetryBudget(maxInstanceAttempts: 1, maxPathRetries: 5, LongWindow).MayTryAnotherInstance);
    }

    [Fact]
    public void TryRetry_PathFailures_DoNotSpendTheInstanceBudgetNorExcludeTheInstance()
    {
        var budget = new RetryBudget(maxInstanceAttempts: 2, maxPathRetries: 5, LongWindow);

        Assert.True(budget.TryRetry(new Failure(ForwarderError.RelayInterrupted), Lease("a1", "c1")));
        Assert.True(budget.TryRetry(new Failure(ForwarderError.GatewayNodeLost), Lease("a1", "c2")));
        Assert.True(budget.TryRetry(new Failure(ForwarderError.AgentBusy), Lease("a1", "c3")));

        Assert.Empty(budget.ExcludedAgents);
        Assert.True(budget.MayTryAnotherInstance);
        Assert.Equal(3, budget.Failures);
    }

    [Theory]
    [InlineData(nameof(ForwarderError.AgentDisconnected), true)]
    [InlineData(nameof(ForwarderError.GatewayNodeLost), true)]
    [InlineData(nameof(ForwarderError.ConnectionUnavailable), true)]
    [InlineData(nameof(ForwarderError.RelayInterrupted), false)]
    [InlineData(nameof(ForwarderError.AgentBusy), false)]
    public void TryRetry_PathFailure_ExcludesTheSocketOnlyWhenTheSocketIsGone(string name, bool excluded)
    {
        var error = Enum.Parse<ForwarderError>(name);
        var budget = new RetryBudget(maxInstanceAttempts: 3, maxPathRetries: 5, LongWindow);

        Assert.True(budget.TryRetry(new Failure(error), Lease("a1", "socket-1")));

        string[] expected = excluded ? ["socket-1"] : [];
        Assert.Equal(expected, budget.ExcludedConnections);
        Assert.Equal(excluded, budget.AnyExcluded);
    }

    [Fact]
    public void TryRetry_PathFailures_StopAtMaxPathRetries()
    {
        var budget = new RetryBudget(maxInstanceAttempts: 3, maxPathRetries: 2, LongWindow);

        Assert.True(budget.TryRetry(new Failure(ForwarderError.RelayInterrupted), Lease("a1", "c1")));
        Assert.False(budget.TryRetry(new Failure(ForwarderError.RelayInterrupted), Lease("a1", "c1")));
    }

    [Fact]
    public void TryRetry_PathFailureAfterThePathWindowClosed_IsNotRetried()
    {
        var budget = new RetryBudget(maxInstanceAttempts: 3, maxPathRetries: 100, TimeSpan.Zero);

        Assert.False(budget.TryRetry(new Failure(ForwarderError.AgentDisconnected), Lease("a1", "c1")));
        // The window limits paths only: a failed instance may still be replaced.
        Assert.True(budget.TryRetry(new Failure(ForwarderError.UpstreamUnreachable), Lease("a1", "c1")));
    }

    [Theory]
    [InlineData(nameof(ForwarderError.UpstreamFailed))]
    [InlineData(nameof(ForwarderError.IdleTimeout))]
    [InlineData(nameof(ForwarderError.WindowExceeded))]
    [InlineData(nameof(ForwarderError.ModelNotFound))]
    [InlineData(nameof(ForwarderError.QueueFull))]
    public void TryRetry_FailureNotWorthAnotherAttempt_IsNotRetriedButRemembered(string name)
    {
        var error = Enum.Parse<ForwarderError>(name);
        var budget = new RetryBudget(maxInstanceAttempts: 3, maxPathRetries: 5, LongWindow);
        var failure = new Failure(error, "why");

        Assert.False(budget.TryRetry(failure, Lease("a1", "c1")));
        Assert.Equal(failure, budget.LastFailure);
        Assert.Null(budget.LastInstanceFailure);
        Assert.False(budget.AnyExcluded);
    }

    [Fact]
    public void LastInstanceFailure_IsTheLastFailureThatSaysSomethingAboutTheInstances()
    {
        var budget = new RetryBudget(maxInstanceAttempts: 5, maxPathRetries: 5, LongWindow);
        var unreachable = new Failure(ForwarderError.UpstreamUnreachable, "refused");
        var disconnected = new Failure(ForwarderError.AgentDisconnected, "socket closed");
        var stalled = new Failure(ForwarderError.RelayInterrupted, "relay stalled");

        budget.TryRetry(unreachable, Lease("a1", "c1"));
        Assert.Equal(unreachable, budget.LastInstanceFailure);

        budget.TryRetry(disconnected, Lease("a2", "c2"));
        Assert.Equal(disconnected, budget.LastInstanceFailure);

        // A stalled relay says nothing about the instance behind it.
        budget.TryRetry(stalled, Lease("a3", "c3"));
        Assert.Equal(disconnected, budget.LastInstanceFailure);
        Assert.Equal(stalled, budget.LastFailure);
    }

    [Fact]
    public async Task BeforeNextAttemptAsync_AfterNothingOrAnotherFailure_GoesOnAtOnce()
    {
        var budget = new RetryBudget(maxInstanceAttempts: 3, maxPathRetries: 5, LongWindow);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        Assert.True(await budget.BeforeNextAttemptAsync(cancelled.Token));
        budget.TryRetry(new Failure(ForwarderError.AgentDisconnected), Lease("a1", "c1"));
        var next = budget.BeforeNextAttemptAsync(cancelled.Token).AsTask();

        Assert.True(next.IsCompletedSuccessfully);
        Assert.True(await next);
    }

    [Fact]
    public async Task BeforeNextAttemptAsync_AfterAnAgentSaidItIsFull_WaitsAndGivesUpWhenTheCallerHasLeft()
    {
        var budget = new RetryBudget(maxInstanceAttempts: 3, maxPathRetries: 5, LongWindow);
        budget.TryRetry(new Failure(ForwarderError.AgentBusy), Lease("a1", "c1"));
        using var caller = new CancellationTokenSource();
        await caller.CancelAsync();

        // Unlike after any other failure, this one waits (and so sees that the caller is gone).
        Assert.False(await budget.BeforeNextAttemptAsync(caller.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        // The wait was for that one failure: the next attempt after it goes at once.
        Assert.True(budget.BeforeNextAttemptAsync(caller.Token).AsTask().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task BeforeNextAttemptAsync_AfterAnAgentSaidItIsFull_GoesOnOnceTheBackoffPassed()
    {
        var budget = new RetryBudget(maxInstanceAttempts: 3, maxPathRetries: 5, LongWindow);
        budget.TryRetry(new Failure(ForwarderError.AgentBusy), Lease("a1", "c1"));

        Assert.True(await budget.BeforeNextAttemptAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static Lease Lease(string agentId, string connectionId) => new()
    {
        RequestId = 1,
        AgentId = agentId,
        ConnectionId = connectionId,
        Silo = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1),
    };
}
