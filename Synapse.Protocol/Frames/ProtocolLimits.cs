namespace Synapse.Protocol.Frames;

/// <summary>Hard limits on fields inside frames. Frame size itself is negotiated (see WelcomeMessage).</summary>
public static class ProtocolLimits
{
    public const int MaxModelIdBytes = 512;
    public const int MaxMethodBytes = 16;
    public const int MaxPathBytes = 16 * 1024;
    public const int MaxHeaderCount = 256;
    public const int MaxHeaderNameBytes = 256;
    public const int MaxHeaderValueBytes = 16 * 1024;
    public const int MaxErrorMessageBytes = 4 * 1024;
    public const int MaxModelsPerAgent = 1024;
    public const int MaxNameBytes = 256;

    /// <summary>Longest agent id; ids are made of letters, digits and <c>- _ . :</c> (see <see cref="IsAgentIdChar"/>).</summary>
    public const int MaxAgentIdLength = 128;

    /// <summary>Largest capacity (requests per model at once) an agent may claim.</summary>
    public const int MaxCapacity = 100_000;

    public static bool IsAgentIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':';

    public static bool IsValidAgentId(string? agentId) =>
        agentId is { Length: > 0 and <= MaxAgentIdLength } && agentId.All(IsAgentIdChar);

    /// <summary>Default cap on one WebSocket message; a larger one closes the connection.</summary>
    public const int DefaultMaxFrameBytes = 1024 * 1024;

    /// <summary>Body bytes per body frame, so one big response never holds the socket for long.</summary>
    public const int BodyChunkBytes = 32 * 1024;
}
