namespace Synapse.Protocol.Frames;

/// <summary>A frame that does not follow the protocol: truncated, oversized field, unknown type.</summary>
public sealed class FrameFormatException : Exception
{
    public FrameFormatException()
    {
    }

    public FrameFormatException(string message)
        : base(message)
    {
    }

    public FrameFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
