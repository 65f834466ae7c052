namespace Synapse.Protocol.Frames;

/// <summary>The first byte of every binary WebSocket message. See docs/protocol.md.</summary>
public enum FrameType : byte
{
    // Agent to gateway.
    Hello = 1,
    ModelsUpdate = 2,
    ResponseHead = 3,
    ResponseBody = 4,
    ResponseEnd = 5,
    Draining = 6,

    /// <summary>The engine's load (queue, running, KV cache) per model; protocol 2 and later. See docs/protocol.md.</summary>
    EngineSignals = 7,

    // Gateway to agent.
    Welcome = 16,
    Reject = 17,
    RequestHead = 18,
    RequestBody = 19,
    Cancel = 20,
    WindowUpdate = 21,
    GoAway = 22,

    // Both ways.
    Ping = 32,
    Pong = 33,

    /// <summary>Several frames in one message: each a length (unsigned LEB128) and the frame's bytes.</summary>
    Batch = 40,
}
