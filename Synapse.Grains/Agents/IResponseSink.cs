using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;

namespace Synapse.Grains.Agents;

/// <summary>
/// Where an agent socket delivers one request's response. Called on the socket's receive loop, so implementations
/// must not block: they queue and return.
/// </summary>
public interface IResponseSink
{
    void OnHead(ResponseHead head);

    /// <summary>Body bytes start at <paramref name="offset"/> in <paramref name="frame"/>; the sink owns the frame.</summary>
    void OnBody(Frame frame, int offset);

    /// <summary>The last call for the request: success, an upstream error or the socket going away.</summary>
    void OnEnd(ResponseEnd end);
}
