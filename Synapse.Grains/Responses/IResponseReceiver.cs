using Synapse.Grains.Agents;

namespace Synapse.Grains.Responses;

/// <summary>
/// The caller's end of one response: what the socket (or the relay) writes into, and what the gateway can end from
/// its side when the path to the agent breaks.
/// </summary>
public interface IResponseReceiver : IResponseSink
{
    long RequestId { get; }

    bool HasEnded { get; }

    /// <summary>Ends the response from the gateway's side with <paramref name="errorCode"/>; the agent may still be working.</summary>
    void Fail(string errorCode, string message);
}
