using Synapse.Grains.Agents;

namespace Synapse.Silo.Agents;

/// <summary>A request on an agent socket, from its head until its end.</summary>
internal sealed class ActiveRequest(long id, string model, IResponseSink sink)
{
    private long _outstanding;

    public long Id { get; } = id;

    public string Model { get; } = model;

    public IResponseSink Sink { get; } = sink;

    /// <summary>Response bytes received but not yet consumed by the caller; bounded by the flow-control window.</summary>
    public long AddOutstanding(int bytes) => Interlocked.Add(ref _outstanding, bytes);
}
