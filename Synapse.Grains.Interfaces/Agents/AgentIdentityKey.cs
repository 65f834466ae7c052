namespace Synapse.Grains.Agents;

/// <summary>
/// Agent ids are spread over a fixed number of identity grains per group, so a thousand agents cost a few
/// activations rather than a thousand. The hash must be the same on every silo (not <c>string.GetHashCode</c>).
/// </summary>
public static class AgentIdentityKey
{
    public const int Buckets = 16;

    public static string For(string group, string agentId) => $"{group}/{Bucket(agentId)}";

    private static uint Bucket(string agentId)
    {
        // FNV-1a over the UTF-16 code units: stable across processes and cheap. Its top bits depend on every input
        // bit (the low ones only on the inputs' low bits), so the bucket comes from the top.
        var hash = 2166136261u;
        foreach (var c in agentId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash >> 28;
    }
}
