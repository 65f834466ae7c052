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

    public virtual void Dispose() => Channel.Dispose();

    protected abstract void Grant(int bytes);
}
