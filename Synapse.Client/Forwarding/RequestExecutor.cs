using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Synapse.Client.Hosting;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Protocol.Transport;

namespace Synapse.Client.Forwarding;

/// <summary>The requests multiplexed on one gateway socket, by id. Each runs on its own; none waits on another.</summary>
internal sealed partial class RequestExecutor(FramedConnection connection, AgentContext context, Func<int> initialWindow, CancellationToken hardStop)
{
    private readonly ConcurrentDictionary<long, UpstreamRequest> _requests = new();
    private readonly ILogger _logger = context.Loggers.CreateLogger<RequestExecutor>();
    private TaskCompletionSource? _idle;

    public int InFlight => _requests.Count;

    public void OnRequestHead(Frame frame)
    {
        RequestHead head;
        int bodyOffset;
        try
        {
            head = FrameCodec.ReadRequestHead(frame.Span, out bodyOffset);
        }
        catch
        {
            frame.Return();
            throw;
        }

        try
        {
            if (context.IsDraining)
            {
                Refuse(head.RequestId, AgentErrorCodes.Draining, "the agent is shutting down");
                return;
            }

            if (!context.Slots.TryEnter(head.Model))
            {
                Refuse(head.RequestId, AgentErrorCodes.Overloaded, $"the agent is at its capacity of {context.Options.MaxConcurrency} for this model");
                return;
            }

            var request = new UpstreamRequest(head, connection, context, initialWindow(), _logger, hardStop);
            if (!_requests.TryAdd(head.RequestId, request))
            {
                context.Slots.Exit(head.Model);
                request.Dispose();
                throw new FrameFormatException($"request id {head.RequestId} is already in flight");
            }

            if (!request.AppendBody(frame.Span[bodyOffset..]))
            {
                Fail(request, "the request body is too large");
                return;
            }

            if (head.EndOfBody)
            {
                Start(request);
            }
        }
        finally
        {
            frame.Return();
        }
    }

    public void OnRequestBody(Frame frame)
    {
        try
        {
            var id = FrameCodec.ReadRequestId(frame.Span);
            var end = FrameCodec.ReadRequestBodyEnd(frame.Span);
            if (!_requests.TryGetValue(id, out var request))
            {
                return;
            }

            if (!request.AppendBody(frame.Span[FrameCodec.RequestBodyDataOffset..]))
            {
                Fail(request, "the request body is too large");
                return;
            }

            if (end)
            {
                Start(request);
            }
        }
        finally
        {
            frame.Return();
        }
    }

    public void OnCancel(long requestId)
    {
        if (_requests.TryGetValue(requestId, out var request))
        {
            request.Cancel();
        }
    }

    public void OnWindowUpdate(long requestId, int credits)
    {
        if (_requests.TryGetValue(requestId, out var request))
        {
            request.Grant(credits);
        }
    }

    /// <summary>The socket is gone: nobody can receive these answers any more.</summary>
    public void CancelAll()
    {
        foreach (var request in _requests.Values)
        {
            request.Cancel();
        }
    }

    /// <summary>Completes when no request is in flight on this socket.</summary>
    public Task WhenIdleAsync()
    {
        lock (_requests)
        {
            if (_requests.IsEmpty)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    private void Start(UpstreamRequest request) => _ = RunAsync(request);

    private async Task RunAsync(UpstreamRequest request)
    {
        try
        {
            await request.RunAsync();
        }
        catch (Exception ex)
        {
            LogUnexpected(_logger, ex, request.Id);
            connection.TrySend(FrameCodec.ResponseEnd(new ResponseEnd(request.Id, AgentErrorCodes.UpstreamError, "agent error")));
        }
        finally
        {
            Complete(request);
        }
    }

    private void Fail(UpstreamRequest request, string message)
    {
        connection.TrySend(FrameCodec.ResponseEnd(new ResponseEnd(request.Id, AgentErrorCodes.BadRequest, message)));
        Complete(request);
    }

    private void Complete(UpstreamRequest request)
    {
        if (_requests.TryRemove(request.Id, out _))
        {
            context.Slots.Exit(request.Model);
        }

        request.Dispose();
        lock (_requests)
        {
            if (_requests.IsEmpty && _idle is { } idle)
            {
                _idle = null;
                idle.TrySetResult();
            }
        }
    }

    private void Refuse(long requestId, string code, string message) =>
        connection.TrySend(FrameCodec.ResponseEnd(new ResponseEnd(requestId, code, message)));

    [LoggerMessage(Level = LogLevel.Error, Message = "Request {RequestId} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, long requestId);
}
