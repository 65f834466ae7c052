using Synapse.Grains.Responses;

namespace Synapse.Grains.Agents;

/// <summary>
/// Where an agent socket delivers one request's response, event by event, ending with exactly one end event.
/// Called on the socket's receive loop, so implementations must not block: they queue and return. A body event's
/// pooled buffer belongs to the sink from then on.
/// </summary>
public interface IResponseSink
{
    void Write(ResponseEvent item);
}
