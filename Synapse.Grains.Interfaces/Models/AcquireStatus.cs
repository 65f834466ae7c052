namespace Synapse.Grains.Models;

[GenerateSerializer, Alias("synapse.AcquireStatus")]
public enum AcquireStatus
{
    Granted = 0,

    /// <summary>No agent serves this model, nor did recently: 404.</summary>
    UnknownModel = 1,

    /// <summary>The model is known but no instance can take the request now: 503.</summary>
    NoLiveInstance = 2,

    /// <summary>Every instance is busy and the queue is full: 429.</summary>
    QueueFull = 3,

    /// <summary>Every instance stayed busy for the whole queue timeout: 503.</summary>
    QueueTimeout = 4,

    Cancelled = 5,
}
