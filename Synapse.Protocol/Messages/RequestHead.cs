namespace Synapse.Protocol.Messages;

/// <summary>
/// Starts a proxied request on the agent. The frame's remaining bytes are the first part of the body;
/// <see cref="EndOfBody"/> says whether <see cref="FrameType.RequestBody"/> frames follow.
/// </summary>
public sealed record RequestHead(
    long RequestId,
    string Model,
    string Method,
    string PathAndQuery,
    IReadOnlyList<HeaderField> Headers,
    bool EndOfBody);
