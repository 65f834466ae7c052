using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Synapse.Client.Hosting;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Protocol.Transport;

namespace Synapse.Client.Forwarding;

/// <summary>
/// One proxied request on the agent: collects the body, calls the upstream, and streams the answer back as it
/// arrives, within the flow-control window. Cancelling it aborts the upstream connection, so the LLM server stops
/// generating.
/// </summary>
internal sealed partial class UpstreamRequest : IDisposable
{
    private const int MaxBodyBytes = 256 * 1024 * 1024;

    private static readonly HashSet<string> ContentHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Content-Type", "Content-Encoding", "Content-Language", "Content-Disposition", "Content-MD5", "Content-Range", "Expires", "Last-Modified", "Allow",
    };

    private static readonly HashSet<string> NotSent = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Authorization", "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Upgrade", "Proxy-Authorization", "Proxy-Connection", "Expect",
    };

    private static readonly HashSet<string> NotReturned = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection", "Content-Length",
    };

    private readonly RequestHead _head;
    private readonly FramedConnection _connection;
    private readonly AgentContext _context;
    private readonly CreditWindow _window;
    private readonly CancellationTokenSource _cancel;
    private readonly ILogger _logger;
    private byte[] _body = [];
    private int _bodyLength;

    public UpstreamRequest(RequestHead head, FramedConnection connection, AgentContext context, int initialWindow, ILogger logger, CancellationToken hardStop)
    {
        _head = head;
        _connection = connection;
        _context = context;
        _window = new CreditWindow(initialWindow);
        _logger = logger;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(hardStop, connection.Aborted);
    }

    public long Id => _head.RequestId;

    public string Model => _head.Model;

    /// <summary>Adds body bytes; false when the body grows past the agent's limit.</summary>
    public bool AppendBody(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return true;
        }

        if ((long)_bodyLength + data.Length > MaxBodyBytes)
        {
            return false;
        }

        if (_body.Length - _bodyLength < data.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_bodyLength + data.Length, _body.Length * 2));
            _body.AsSpan(0, _bodyLength).CopyTo(grown);
            ReturnBody();
            _body = grown;
        }

        data.CopyTo(_body.AsSpan(_bodyLength));
        _bodyLength += data.Length;
        return true;
    }

    public void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Grant(int bytes) => _window.Grant(bytes);

    public async Task RunAsync()
    {
        var telemetry = _context.Telemetry;
        var model = new KeyValuePair<string, object?>("gen_ai.request.model", _head.Model);
        using var activity = StartActivity();
        var started = Stopwatch.GetTimestamp();
        telemetry.InFlight.Add(1, model);
        try
        {
            await RunCoreAsync(activity, started);
        }
        finally
        {
            telemetry.InFlight.Add(-1, model);
            telemetry.UpstreamDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, model);
        }
    }

    private async Task RunCoreAsync(Activity? activity, long started)
    {
        var telemetry = _context.Telemetry;
        var token = _cancel.Token;
        using var message = BuildMessage(activity);
        HttpResponseMessage response;
        try
        {
            response = await _context.Upstream.SendAsync(message, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            // Nothing reached the upstream's handler: the gateway may retry on another instance.
            LogUnreachable(_logger, _head.RequestId, _context.Upstream.BaseUrl, ex.Message);
            telemetry.UpstreamErrors.Add(1, new KeyValuePair<string, object?>("error.type", AgentErrorCodes.UpstreamUnreachable));
            activity?.SetStatus(ActivityStatusCode.Error, AgentErrorCodes.UpstreamUnreachable);
            _context.Discovery.Poke();
            End(AgentErrorCodes.UpstreamUnreachable, ex.Message);
            return;
        }

        telemetry.UpstreamTimeToHead.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("gen_ai.request.model", _head.Model));
        telemetry.Requests.Add(1, new("gen_ai.request.model", _head.Model), new("http.response.status_code", (int)response.StatusCode));
        activity?.SetTag("http.response.status_code", (int)response.StatusCode);
        using (response)
        {
            var headers = new List<HeaderField>(16);
            Collect(headers, response.Headers);
            Collect(headers, response.Content.Headers);
            if (!_connection.TrySend(FrameCodec.ResponseHead(new ResponseHead(_head.RequestId, (int)response.StatusCode, headers))))
            {
                return;
            }

            await StreamBodyAsync(response, activity, token);
        }
    }

    /// <summary>Relays the response body as the caller's window allows, then ends the stream; an upstream that breaks midway ends it with an error.</summary>
    private async Task StreamBodyAsync(HttpResponseMessage response, Activity? activity, CancellationToken token)
    {
        var telemetry = _context.Telemetry;
        var buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimits.BodyChunkBytes);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(token);
            while (true)
            {
                var allowed = await _window.WaitAsync(buffer.Length, token);
                var read = await body.ReadAsync(buffer.AsMemory(0, allowed), token);
                if (read == 0)
                {
                    break;
                }

                _window.Consume(read);
                if (!_connection.TrySend(FrameCodec.ResponseBody(_head.RequestId, buffer.AsSpan(0, read))))
                {
                    return;
                }
            }

            End(null, null);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The caller went away (or the socket did): disposing the response closes the upstream connection.
            LogCancelled(_logger, _head.RequestId);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            LogFailedMidway(_logger, _head.RequestId, ex.Message);
            telemetry.UpstreamErrors.Add(1, new KeyValuePair<string, object?>("error.type", AgentErrorCodes.UpstreamError));
            activity?.SetStatus(ActivityStatusCode.Error, AgentErrorCodes.UpstreamError);
            End(AgentErrorCodes.UpstreamError, ex.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose()
    {
        ReturnBody();
        _cancel.Dispose();
    }

    /// <summary>A span for the upstream call, under the gateway's span that came in the request's traceparent.</summary>
    private Activity? StartActivity()
    {
        string? traceParent = null;
        string? traceState = null;
        foreach (var header in _head.Headers)
        {
            if (header.Name.Equals("traceparent", StringComparison.OrdinalIgnoreCase))
            {
                traceParent = header.Value;
            }
            else if (header.Name.Equals("tracestate", StringComparison.OrdinalIgnoreCase))
            {
                traceState = header.Value;
            }
        }

        ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent);
        var activity = _context.Telemetry.Source.StartActivity($"upstream {_head.Method}", ActivityKind.Client, parent);
        activity?.SetTag("gen_ai.request.model", _head.Model);
        activity?.SetTag("http.request.method", _head.Method);
        activity?.SetTag("url.path", _head.PathAndQuery.Split('?')[0]);
        activity?.SetTag("server.address", _context.Upstream.BaseUrl);
        return activity;
    }

    private HttpRequestMessage BuildMessage(Activity? activity)
    {
        var message = new HttpRequestMessage(new HttpMethod(_head.Method), _context.Upstream.Resolve(_head.PathAndQuery));
        var content = new ReadOnlyMemoryContent(_body.AsMemory(0, _bodyLength));
        foreach (var header in _head.Headers)
        {
            if (NotSent.Contains(header.Name))
            {
                continue;
            }

            // With its own span the agent is the upstream's parent; without one the gateway's context passes through.
            if (activity is not null && (header.Name.Equals("traceparent", StringComparison.OrdinalIgnoreCase) || header.Name.Equals("tracestate", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            if (ContentHeaders.Contains(header.Name))
            {
                content.Headers.TryAddWithoutValidation(header.Name, header.Value);
            }
            else
            {
                message.Headers.TryAddWithoutValidation(header.Name, header.Value);
            }
        }

        if (activity?.Id is { } id)
        {
            message.Headers.TryAddWithoutValidation("traceparent", id);
        }

        if (_bodyLength > 0 || _head.Method is not ("GET" or "HEAD"))
        {
            message.Content = content;
        }
        else
        {
            content.Dispose();
        }

        return message;
    }

    private void End(string? code, string? message)
    {
        _connection.TrySend(FrameCodec.ResponseEnd(new ResponseEnd(_head.RequestId, code, message)));
    }

    private static void Collect(List<HeaderField> into, System.Net.Http.Headers.HttpHeaders headers)
    {
        foreach (var (name, values) in headers)
        {
            if (NotReturned.Contains(name))
            {
                continue;
            }

            foreach (var value in values)
            {
                into.Add(new HeaderField(name, value));
            }
        }
    }

    private void ReturnBody()
    {
        if (_body.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_body);
            _body = [];
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: upstream {Upstream} unreachable: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, long requestId, string upstream, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: upstream failed while answering: {Reason}")]
    private static partial void LogFailedMidway(ILogger logger, long requestId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {RequestId}: cancelled; upstream connection closed")]
    private static partial void LogCancelled(ILogger logger, long requestId);
}
