using Synapse.Grains.Models;
using Synapse.Protocol;

namespace Synapse.Silo.Forwarding;

/// <summary>
/// What one request may still try, and what it learned trying. Two budgets: instances that failed (<c>MaxAttempts</c>
/// in all, each excluded from then on), and paths to instances that broke (a socket or silo gone, a relay stalled:
/// the instance may well serve the request another way), limited in count and in time. Not thread-safe: one request.
/// </summary>
internal sealed class RetryBudget
{
    private static readonly Backoff BusyBackoff = new(TimeSpan.FromMilliseconds(25), TimeSpan.FromMilliseconds(500));

    private readonly int _maxInstanceAttempts;
    private readonly int _maxPathRetries;
    private readonly long _pathDeadline;
    private readonly List<string> _excludedAgents = [];
    private readonly List<string> _excludedConnections = [];
    private int _instanceFailures;
    private int _pathFailures;
    private bool _backOffFirst;

    public RetryBudget(int maxInstanceAttempts, int maxPathRetries, TimeSpan pathRetryWindow)
    {
        _maxInstanceAttempts = maxInstanceAttempts;
        _maxPathRetries = maxPathRetries;
        _pathDeadline = Environment.TickCount64 + (long)pathRetryWindow.TotalMilliseconds;
    }

    /// <summary>Attempts that failed so far.</summary>
    public int Failures => _instanceFailures + _pathFailures;

    public IReadOnlyList<string> ExcludedAgents => _excludedAgents;

    public IReadOnlyList<string> ExcludedConnections => _excludedConnections;

    /// <summary>True once an instance or a socket was given up: the request was promised an answer soon.</summary>
    public bool AnyExcluded => _excludedAgents.Count + _excludedConnections.Count > 0;

    /// <summary>Whether another instance may still be tried (so a 502/503 from this one need not reach the caller).</summary>
    public bool MayTryAnotherInstance => _instanceFailures + 1 < _maxInstanceAttempts;

    /// <summary>The last failure of any kind.</summary>
    public Failure? LastFailure { get; private set; }

    /// <summary>The last failure that says something about the instances themselves (explains a model left without any).</summary>
    public Failure? LastInstanceFailure { get; private set; }

    /// <summary>Records a failed attempt on <paramref name="lease"/>; true when another attempt is worth making.</summary>
    public bool TryRetry(Failure failure, Lease lease)
    {
        LastFailure = failure;
        switch (ForwarderErrors.RetryOf(failure.Error))
        {
            case RetryKind.Instance:
                _instanceFailures++;
                _excludedAgents.Add(lease.AgentId);
                LastInstanceFailure = failure;
                return _instanceFailures < _maxInstanceAttempts;

            case RetryKind.Path:
                _pathFailures++;
                if (failure.Error is ForwarderError.AgentDisconnected or ForwarderError.GatewayNodeLost or ForwarderError.ConnectionUnavailable)
                {
                    // That socket is gone; a stalled relay says nothing about the socket, so it may serve the retry.
                    _excludedConnections.Add(lease.ConnectionId);
                }

                if (failure.Error == ForwarderError.AgentDisconnected)
                {
                    LastInstanceFailure = failure;
                }

                // An agent that says it is full is still winding down a request the gateway already let go: it frees
                // the slot within moments, so wait a little before asking again.
                _backOffFirst = failure.Error == ForwarderError.AgentBusy;
                return _pathFailures < _maxPathRetries && Environment.TickCount64 < _pathDeadline;

            default:
                return false;
        }
    }

    /// <summary>Waits before the next attempt when the last one asked for it; false when the caller left meanwhile.</summary>
    public async ValueTask<bool> BeforeNextAttemptAsync(CancellationToken cancellationToken)
    {
        if (!_backOffFirst)
        {
            return true;
        }

        _backOffFirst = false;
        return await BusyBackoff.WaitAsync(_pathFailures - 1, cancellationToken);
    }
}
