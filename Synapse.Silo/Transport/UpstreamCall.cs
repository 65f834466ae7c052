using Synapse.Grains.Models;

namespace Synapse.Silo.Transport;

/// <summary>
/// A request started on a leased instance, seen from the caller's handler: the response to read, a way to cancel
/// it, and flow control (consumed bytes go back to the agent as window, in batches).
/// </summary>
internal abstract class UpstreamCall(ResponseChannel channel, Lease lease, int grantThreshold) : IDisposable
{
    private int _ungranted;

    public ResponseChannel Channel { get; } = channel;

    public Lease Lease { get; } = lease;

    public abstract bool IsLocal { get; }

    public abstract void Cancel();

    public void Consumed(int bytes)
    {
        _ungranted += bytes;
        if (_ungranted >= grantThreshold)
        {
            Grant(_ungranted);
            _ungranted = 0;
        }
    }

    /// <summary>
    /// Ends the call. Unless the agent itself ended the request, it may still be running there — held up by the
    /// flow-control window of a response nobody reads any more — so it is cancelled; a cancel for a request the
    /// agent already finished is ignored.
    /// </summary>
    public virtual void Dispose()
    {
        if (!Channel.AgentFinished)
        {
            Cancel();
        }

        Channel.Dispose();
    }

    protected abstract void Grant(int bytes);
}
