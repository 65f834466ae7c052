using System.Collections.Concurrent;
using System.Net.WebSockets;
using Synapse.Grains.Agents;
using Synapse.Grains.Models;
using Synapse.Grains.Responses;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Protocol.Transport;
using Synapse.Silo.Api.Errors;

namespace Synapse.Silo.Agents;

/// <summary>What the agent sends, frame by frame: the hello, then responses, model updates and its draining.</summary>
internal sealed partial class AgentSession
{
    private async ValueTask OnFrameAsync(Frame frame)
    {
        var type = frame.Type;
        if (Volatile.Read(ref _state) is Rejected or Closed)
        {
            frame.Return();
            return;
        }

        if (Volatile.Read(ref _state) == Handshaking && type != FrameType.Hello)
        {
            frame.Return();
            throw new FrameFormatException($"expected a hello, got {type}");
        }

        switch (type)
        {
            case FrameType.Hello:
                var hello = Read(frame, static span => FrameCodec.ReadJson(span, ProtocolJsonContext.Default.HelloMessage));
                if (Volatile.Read(ref _state) != Handshaking)
                {
                    throw new FrameFormatException("hello sent twice");
                }

                await AcceptAsync(hello);
                break;
            case FrameType.ResponseHead:
                OnResponseHead(Read(frame, FrameCodec.ReadResponseHead));
                break;
            case FrameType.ResponseBody:
                OnResponseBody(frame);
                break;
            case FrameType.ResponseEnd:
                OnResponseEnd(Read(frame, FrameCodec.ReadResponseEnd));
                break;
            case FrameType.ModelsUpdate:
                OnModelsUpdate(Read(frame, static span => FrameCodec.ReadJson(span, ProtocolJsonContext.Default.ModelsUpdateMessage)));
                break;
            case FrameType.EngineSignals:
                OnEngineSignals(Read(frame, static span => FrameCodec.ReadJson(span, ProtocolJsonContext.Default.EngineSignalsMessage)));
                break;
            case FrameType.Draining:
                frame.Return();
                OnDraining();
                break;
            default:
                frame.Return();
                throw new FrameFormatException($"unexpected frame type {(byte)type}");
        }
    }

    /// <summary>Decodes a frame and returns its buffer, whether decoding worked or not.</summary>
    private static T Read<T>(Frame frame, SpanReader<T> read)
    {
        try
        {
            return read(frame.Span);
        }
        finally
        {
            frame.Return();
        }
    }

    private void OnResponseHead(ResponseHead head)
    {
        if (!_requests.TryGetValue(head.RequestId, out var request))
        {
            LogUnknownRequest(_services.Logger, AgentId, head.RequestId);
            return;
        }

        if (ResponseHeadValidator.Check(head) is { } invalid)
        {
            LogInvalidHead(_services.Logger, AgentId, head.RequestId, OpenAIError.Sanitize(invalid));
            FailRequest(head.RequestId, GatewayErrorCodes.UpstreamInvalidResponse, "the upstream's response head cannot be relayed: " + OpenAIError.Sanitize(invalid));
            return;
        }

        request.Sink.Write(ResponseEvent.Head(head));
    }

    private void OnResponseBody(Frame frame)
    {
        var requestId = FrameCodec.ReadRequestId(frame.Span);
        if (!_requests.TryGetValue(requestId, out var request))
        {
            frame.Return();
            return;
        }

        var count = frame.Length - FrameCodec.RequestPayloadOffset;
        if (request.AddOutstanding(count) > _services.Options.InitialWindowBytes + (long)_services.Options.MaxFrameBytes)
        {
            frame.Return();
            LogWindowExceeded(_services.Logger, AgentId, requestId);
            FailRequest(requestId, GatewayErrorCodes.WindowExceeded, "the agent sent more than its flow-control window");
            return;
        }

        // The frame's buffer travels on with the event; whoever writes it out returns it.
        request.Sink.Write(ResponseEvent.PooledBody(frame.Buffer, FrameCodec.RequestPayloadOffset, count));
    }

    private void OnResponseEnd(ResponseEnd end)
    {
        if (_requests.TryRemove(end.RequestId, out var request))
        {
            request.Sink.Write(ResponseEvent.End(end));
        }
    }

    private void OnModelsUpdate(ModelsUpdateMessage update)
    {
        if (HelloValidator.CheckModels(update.Models) is { } problem)
        {
            throw new FrameFormatException($"invalid model update: {problem}");
        }

        _models = ToModelMap(update.Models);
        LogModelsChanged(_services.Logger, AgentId, _models.Count);
        _ = PublishRegistrationsAsync();
    }

    private void OnEngineSignals(EngineSignalsMessage signals)
    {
        if (EngineSignalsValidator.Check(signals, _hello!.ProtocolVersion, _models) is { } invalid)
        {
            throw new FrameFormatException($"invalid engine signals: {invalid}");
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var model in EngineSignals.Update(signals, Environment.TickCount64, now))
        {
            // Straight to the model grain, where instances are picked: the registration refresh would bring it
            // seconds late. One-way, so a busy grain never slows the socket's read loop.
            var load = EngineSignals.TryGet(model, out var current) ? current : null;
            _ = _services.ModelGrain(Group, model).ReportEngineLoad(new EngineReport { AgentId = AgentId, Load = load, At = now });
        }
    }

    private void OnDraining()
    {
        _agentDraining = true;
        LogAgentDraining(_services.Logger, AgentId, _requests.Count);
        _ = PublishRegistrationsAsync();
    }

    private delegate T SpanReader<out T>(ReadOnlySpan<byte> span);
}
