namespace Synapse.Protocol.Messages;

/// <summary>The agent's upstream now serves exactly these models (empty when the upstream is down).</summary>
public sealed record ModelsUpdateMessage(IReadOnlyList<ModelAdvert> Models);
