namespace Synapse.Grains.Models;

/// <summary>
/// Prefix and session affinity: calls of one conversation (the same <c>user</c>, <c>X-Session-Id</c>, or the same
/// start of the prompt) go to the instance that served it before, while its load stays within <see cref="LoadBound"/>
/// of the average (see <see cref="Balancing.AffinityRing"/>).
/// </summary>
public sealed class AffinityOptions
{
    /// <summary>On by default for chat and completions.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>No instance takes more than this times its share of the model's requests in flight for the sake of affinity.</summary>
    public double LoadBound { get; set; } = 1.25;

    /// <summary>Models balanced without affinity (names as agents serve them, without a key group).</summary>
    public List<string> DisabledModels { get; set; } = [];
}
