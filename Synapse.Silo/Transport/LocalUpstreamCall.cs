using Synapse.Grains.Models;
using Synapse.Silo.Agents;

namespace Synapse.Silo.Transport;

/// <summary>The socket is on this silo: no grain call, no stream, just the session.</summary>
internal sealed class LocalUpstreamCall(ResponseChannel channel, Lease lease, int grantThreshold, AgentSession session)
    : UpstreamCall(channel, lease, grantThreshold)
{
    public override bool IsLocal => true;

    public override void Cancel() => session.Cancel(Lease.RequestId);

    protected override void Grant(int bytes) => session.Grant(Lease.RequestId, bytes);
}
