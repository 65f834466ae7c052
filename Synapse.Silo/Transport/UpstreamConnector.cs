using Microsoft.Extensions.Options;
using Synapse.Grains.Agents;
using Synapse.Grains.Models;
using Synapse.Grains.Relay;
using Synapse.Silo.Agents;
using Synapse.Silo.Cluster;

namespace Synapse.Silo.Transport;

/// <summary>
/// Starts a request on the instance a model grain leased. When the socket is on this silo it goes straight to the
/// session; otherwise through the socket's connection grain, with the answer coming back on this silo's inbox.
/// </summary>
internal sealed partial class UpstreamConnector(
    AgentSessionRegistry sessions,
    RemoteResponseTable remoteResponses,
    GrainReferences grains,
    ILocalSiloDetails silo,
    IOptions<AgentSessionOptions> options,
    ILogger<UpstreamConnector> logger)
{
    private readonly int _grantThreshold = Math.Max(1, options.Value.InitialWindowBytes / 4);

    /// <summary>The call, or null with the reason the socket could not take it.</summary>
    public async ValueTask<(UpstreamCall? Call, SendResult Result)> StartAsync(Lease lease, ForwardedRequest request, CancellationToken cancellationToken)
    {
        var attempt = request.ToAttempt(lease.RequestId, silo.SiloAddress);
        var channel = new ResponseChannel(lease.RequestId);
        if (lease.Silo.Equals(silo.SiloAddress))
        {
            var local = sessions.TryGetSession(lease.ConnectionId, out var session)
                ? session.TryStart(attempt.ToHead(), attempt.Body.Span, channel)
                : SendResult.ConnectionGone;
            if (local != SendResult.Accepted)
            {
                channel.Dispose();
                return (null, local);
            }

            return (new LocalUpstreamCall(channel, lease, _grantThreshold, session), SendResult.Accepted);
        }

        remoteResponses.Register(channel, lease.Silo);
        var connection = grains.Connection(lease.ConnectionId);
        SendResult result;
        try
        {
            result = await connection.Send(attempt).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The socket's silo is gone or unreachable: the caller retries on another instance.
            LogRemoteSendFailed(logger, ex, lease.RequestId, lease.Silo);
            result = SendResult.ConnectionGone;
        }
        catch
        {
            remoteResponses.Remove(lease.RequestId);
            channel.Dispose();
            throw;
        }

        if (result != SendResult.Accepted)
        {
            remoteResponses.Remove(lease.RequestId);
            channel.Dispose();
            return (null, result);
        }

        return (new RemoteUpstreamCall(channel, lease, _grantThreshold, connection, remoteResponses, logger), SendResult.Accepted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId} could not reach the socket's silo {Silo}; trying another instance")]
    private static partial void LogRemoteSendFailed(ILogger logger, Exception exception, long requestId, SiloAddress silo);
}
