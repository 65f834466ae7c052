namespace Synapse.Grains.Models;

/// <summary>One agent serving a model, possibly over sockets on several silos; one capacity whatever the count.</summary>
public sealed class ModelInstance
{
    internal ModelInstance(string agentId) => AgentId = agentId;

    public string AgentId { get; }

    public string? Name { get; internal set; }

    public string? Hostname { get; internal set; }

    public string? AgentVersion { get; internal set; }

    public int Capacity { get; internal set; } = 1;

    public int InFlight { get; internal set; }

    public string MetadataJson { get; internal set; } = "{}";

    /// <summary>Moving average of time to the response head, in milliseconds; 0 until measured.</summary>
    public double LatencyMs { get; internal set; }

    public int ConsecutiveFailures { get; internal set; }

    internal long CooldownUntilTick { get; set; }

    internal Dictionary<string, InstanceConnection> Connections { get; } = new(StringComparer.Ordinal);

    /// <summary>In-flight relative to capacity: 0 idle, 1 full.</summary>
    public double Load => (double)InFlight / Math.Max(1, Capacity);

    public bool HasConnectionOn(SiloAddress silo)
    {
        foreach (var connection in Connections.Values)
        {
            if (!connection.Draining && connection.Silo.Equals(silo))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Orders by load, then by recent latency; negative when <paramref name="a"/> is the better choice.</summary>
    public static int CompareLoad(ModelInstance a, ModelInstance b)
    {
        var byLoad = a.Load.CompareTo(b.Load);
        return byLoad != 0 ? byLoad : a.LatencyMs.CompareTo(b.LatencyMs);
    }
}
