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
        // FNV-1a over the UTF-16 code units, stable across processes and cheap, then MurmurHash3's finalizer: FNV's
        // low bits depend only on the inputs' low bits, so ids differing in one letter's case would share a bucket.
        var hash = 2166136261u;
        foreach (var c in agentId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        hash ^= hash >> 16;
        hash *= 0x85ebca6bu;
        hash ^= hash >> 13;
        hash *= 0xc2b2ae35u;
        hash ^= hash >> 16;
        return hash % Buckets;
    }
}
