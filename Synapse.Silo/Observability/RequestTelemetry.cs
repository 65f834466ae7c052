using System.Diagnostics;
using Synapse.Grains.Responses;

namespace Synapse.Silo.Observability;

/// <summary>What one proxied call recorded on its way, turned into metrics when it ends.</summary>
/// <param name="model">The model the caller's name resolves to in its group.</param>
/// <param name="requested">The name the caller asked for: an alias of <paramref name="model"/>, or the same name.</param>
internal sealed class RequestTelemetry(GatewayMetrics metrics, string group, string keyName, string model, string requested, string path)
{
    /// <summary>OpenAI-style routes kept as metric tags; any other path is one tag, as callers choose paths.</summary>
    private static readonly HashSet<string> KnownRoutes = new(StringComparer.Ordinal)
    {
        "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/moderations",
        "/v1/audio/transcriptions", "/v1/audio/translations", "/v1/audio/speech", "/v1/images/generations",
        "/v1/rerank", "/v1/score", "/v1/tokenize", "/v1/detokenize",
    };

    private readonly long _started = Stopwatch.GetTimestamp();
    private double _firstByteSeconds = -1;
    private long _inputTokens = -1;
    private long _outputTokens = -1;
    private readonly bool _isAlias = !string.Equals(requested, model, StringComparison.Ordinal);
    private string? _servingModel;
    private string? _fallbackFrom;
    private string? _fallbackReason;

    /// <summary>The caller's key group on every metric: two groups' models of one name are two models.</summary>
    public const string GroupTag = "synapse.group";

    /// <summary>The caller's key name (never the key) on request and token counts: what a team's usage is read by.</summary>
    public const string KeyTag = "synapse.key";

    /// <summary>The metric tag for names no instance serves: callers choose model names, dashboards should not.</summary>
    public const string UnknownModel = "_unknown";

    /// <summary>The name the caller asked for, as a request metric's tag: for the model it resolved to see the model tag.</summary>
    public const string RequestedModelTag = "synapse.requested_model";

    /// <summary>Whether a fallback served the call (<c>true</c>/<c>false</c>), on the request metrics.</summary>
    public const string FallbackTag = "synapse.fallback";

    /// <summary>The model that serves the call (a fallback, when one does); usage is counted for it.</summary>
    public string Model { get; private set; } = model;

    /// <summary>The name the caller asked for (an alias, or the model's own name).</summary>
    public string Requested { get; } = requested;

    /// <summary>The model the call fell back from while a fallback serves it; null otherwise.</summary>
    public string? FallbackFrom => _fallbackFrom;

    /// <summary>The caller's key group.</summary>
    public string Group { get; } = group;

    /// <summary>The caller's key name (never the key).</summary>
    public string KeyName { get; } = keyName;

    public string Route { get; } = KnownRoutes.TryGetValue(path, out var known) ? known : "/v1/*";

    /// <summary>The GenAI operation name for the route.</summary>
    public string Operation { get; } = path switch
    {
        "/v1/chat/completions" or "/v1/responses" => "chat",
        "/v1/completions" => "text_completion",
        "/v1/embeddings" => "embeddings",
        _ => "other",
    };

    public bool CrossSilo { get; set; }

    /// <summary>Why the call failed after its head went out (an SSE error event), when it did.</summary>
    public string? FailedWith { get; set; }

    public int Retries { get; private set; }

    /// <summary>Prompt tokens as the upstream reported them; negative when it reported none.</summary>
    public long InputTokens => _inputTokens;

    /// <summary>Completion tokens as the upstream reported them; negative when it reported none.</summary>
    public long OutputTokens => _outputTokens;

    public void MarkFirstByte()
    {
        if (_firstByteSeconds < 0)
        {
            _firstByteSeconds = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        }
    }

    /// <summary>An instance took the call (counted once, however many retries follow).</summary>
    public void Serving()
    {
        if (_servingModel is null)
        {
            _servingModel = Model;
            metrics.InFlight.Add(1, ModelTags(_servingModel));
        }
    }

    /// <summary>The model turned out to be served nowhere: record it under one tag, not the caller's name.</summary>
    public void ModelUnknown() => Model = UnknownModel;

    /// <summary>
    /// <paramref name="from"/> could not take the call (<paramref name="reason"/>, an error code) and its fallback
    /// <paramref name="fallback"/> serves it: from now on the call is recorded for the fallback.
    /// </summary>
    public void ServedByFallback(string from, string fallback, string reason)
    {
        _fallbackFrom ??= from;
        _fallbackReason ??= reason;
        Model = fallback;
    }

    /// <summary>The fallback could not take the call either: it is the original model's again.</summary>
    public void FallbackRefused()
    {
        Model = _fallbackFrom ?? Model;
        _fallbackFrom = null;
        _fallbackReason = null;
    }

    /// <summary>
    /// The caller's name as a tag, bounded as the model tag is: an alias or a model with fallbacks is a name from the
    /// key-groups file; any other name is the model's own, so it follows the model tag (one tag for unknown names).
    /// </summary>
    private string RequestedTag => _isAlias || _fallbackFrom is not null ? Requested : Model;

    public void Retried(string reason)
    {
        Retries++;
        var tags = ModelTags();
        tags.Add("synapse.retry.reason", reason);
        metrics.Retries.Add(1, tags);
    }

    public void Queued(TimeSpan wait)
    {
        if (wait > TimeSpan.Zero)
        {
            metrics.QueueWait.Record(wait.TotalSeconds, ModelTags());
        }
    }

    public void Usage(long input, long output)
    {
        _inputTokens = input;
        _outputTokens = output;
    }

    /// <summary>Reads <c>usage</c> from a whole JSON answer held in one or more body pieces.</summary>
    public void UsageFromAnswer(IReadOnlyList<ResponseEvent> pieces, long size)
    {
        if (pieces.Count == 1)
        {
            if (UsageReader.TryRead(pieces[0].Body.Span, out var input, out var output))
            {
                Usage(input, output);
            }

            return;
        }

        var whole = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Max(size, 1));
        try
        {
            var offset = 0;
            foreach (var piece in pieces)
            {
                piece.Body.Span.CopyTo(whole.AsSpan(offset));
                offset += piece.Body.Length;
            }

            if (UsageReader.TryRead(whole.AsSpan(0, offset), out var input, out var output))
            {
                Usage(input, output);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(whole);
        }
    }

    private TagList ModelTags() => ModelTags(Model);

    private TagList ModelTags(string model) => new() { { "gen_ai.request.model", model }, { GroupTag, Group } };

    private TagList OperationTags()
    {
        var tags = ModelTags();
        tags.Add("gen_ai.operation.name", Operation);
        return tags;
    }

    private TagList TokenTags(string type)
    {
        var tags = OperationTags();
        tags.Add(KeyTag, KeyName);
        tags.Add("gen_ai.token.type", type);
        return tags;
    }

    public void Complete(int status)
    {
        if (_servingModel is not null)
        {
            metrics.InFlight.Add(-1, ModelTags(_servingModel));
        }

        var errorType = FailedWith ?? (status >= 400 ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
        var tags = new TagList
        {
            { "gen_ai.operation.name", Operation },
            { "gen_ai.request.model", Model },
            { GroupTag, Group },
            { KeyTag, KeyName },
            { "http.route", Route },
            { "http.response.status_code", status },
            { RequestedModelTag, RequestedTag },
            { FallbackTag, _fallbackFrom is null ? "false" : "true" },
        };
        if (errorType is not null)
        {
            tags.Add("error.type", errorType);
        }

        metrics.History.Record(Group, History.RequestHistory.KeyOf(Group, Model), errorType is not null, status < 400 ? _firstByteSeconds : -1, _outputTokens);
        metrics.Requests.Add(1, tags);
        metrics.RequestDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tags);
        if (_firstByteSeconds >= 0 && status < 400)
        {
            metrics.TimeToFirstToken.Record(_firstByteSeconds, OperationTags());
        }

        if (CrossSilo)
        {
            metrics.CrossSilo.Add(1, ModelTags());
        }

        if (_fallbackFrom is not null)
        {
            metrics.Fallbacks.Add(1, new TagList
            {
                { "gen_ai.request.model", _fallbackFrom },
                { "synapse.fallback.model", Model },
                { "synapse.fallback.reason", _fallbackReason },
                { GroupTag, Group },
            });
        }

        if (_inputTokens >= 0)
        {
            metrics.TokenUsage.Record(_inputTokens, TokenTags("input"));
        }

        if (_outputTokens >= 0)
        {
            metrics.TokenUsage.Record(_outputTokens, TokenTags("output"));
        }

        TagActivity(status, errorType);
    }

    /// <summary>The call's span (when tracing is on): its outcome, and which model served it when it was not the one asked for.</summary>
    private void TagActivity(int status, string? errorType)
    {
        var activity = Activity.Current;
        if (activity is null || activity.Source != GatewayActivity.Source)
        {
            return;
        }

        activity.SetTag("http.response.status_code", status);
        activity.SetTag("synapse.retries", Retries);
        activity.SetTag("synapse.cross_silo", CrossSilo);
        activity.SetTag(RequestedModelTag, Requested);
        activity.SetTag(FallbackTag, _fallbackFrom is not null);
        if (_servingModel is not null)
        {
            activity.SetTag("gen_ai.response.model", Model);
        }

        if (_inputTokens >= 0)
        {
            activity.SetTag("gen_ai.usage.input_tokens", _inputTokens);
        }

        if (_outputTokens >= 0)
        {
            activity.SetTag("gen_ai.usage.output_tokens", _outputTokens);
        }

        if (errorType is not null)
        {
            activity.SetTag("error.type", errorType);
            activity.SetStatus(ActivityStatusCode.Error, errorType);
        }
    }
}
