using System.Text.Json;

namespace Synapse.Protocol.Messages;

/// <summary>One model the agent's upstream serves, with the upstream's own metadata object kept as it was.</summary>
public sealed record ModelAdvert(string Id, JsonElement Metadata);
