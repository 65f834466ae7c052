namespace Synapse.Grains.Agents;

/// <summary>Whether the socket's silo took a request; when it did not, the caller retries on another instance.</summary>
[GenerateSerializer, Alias("synapse.SendResult")]
public enum SendResult
{
    Accepted = 0,
    ConnectionGone = 1,
    Draining = 2,
    Duplicate = 3,
}
