using Orleans.Runtime.Providers;

namespace Synapse.Grains.Relay;

/// <summary>
/// How long the relay's stream pulling agents wait after a failed queue read or delivery. Orleans waits 10-20 s
/// after a failed read: when a silo dies, every agent that was reading a queue grain on it stops for that long, and
/// every response routed through those queues stalls with it. Responses are live traffic, so retry within a second.
/// </summary>
public sealed class RelayBackoff(TimeSpan max) : IQueueReaderBackoffProvider, IMessageDeliveryBackoffProvider
{
    private readonly Protocol.Backoff _backoff = new(TimeSpan.FromMilliseconds(50), max);

    public TimeSpan Next(int attempt) => _backoff.Delay(attempt);
}
