namespace Synapse.Protocol.Messages;

/// <summary>
/// The last frame of a response. A null <see cref="ErrorCode"/> means the upstream finished normally; otherwise
/// the request failed, before the head (the gateway may retry elsewhere) or after it (the caller sees an error).
/// </summary>
public readonly record struct ResponseEnd(long RequestId, string? ErrorCode, string? ErrorMessage)
{
    public bool IsSuccess => ErrorCode is null;
}
