using Orleans.Runtime.Providers;

namespace Synapse.Grains.Relay;

/// <summary>
/// How long the relay's stream pulling agents wait after a failed queue read or delivery. Orleans waits 10-20 s
/// after a failed read: when a silo dies, every agent that was reading a queue grain on it stops for that long, and
/// every response routed through those queues stalls with it. Responses are live traffic, so retry within a second.
/// </summary>
public sealed class RelayBackoff(TimeSpan max) : IQueueReaderBackoffProvider, IMessageDeliveryBackoffProvider
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(50);

    public TimeSpan Next(int attempt)
    {
        var delay = First * Math.Pow(2, Math.Clamp(attempt, 0, 16));
        var capped = delay < max ? delay : max;

        // Jitter, so the agents of one silo do not all knock on the new queue owner at the same moment.
        return capped * (0.8 + (0.4 * Random.Shared.NextDouble()));
    }
}
