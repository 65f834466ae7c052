using System.Text.Json.Serialization;

namespace Synapse.Protocol.Messages;

/// <summary>Source-generated JSON for the handshake and control messages, so the AOT agent needs no reflection.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HelloMessage))]
[JsonSerializable(typeof(WelcomeMessage))]
[JsonSerializable(typeof(RejectMessage))]
[JsonSerializable(typeof(ModelsUpdateMessage))]
[JsonSerializable(typeof(GoAwayMessage))]
[JsonSerializable(typeof(EngineSignalsMessage))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;
