using System.Buffers;

namespace Synapse.Client.Engine;

/// <summary>
/// One attempt at a time: find out what the engine is (<see cref="DetectAsync"/>) and read its load
/// (<see cref="ReadAsync"/>). The result is a reading, or a short reason why there is none.
/// </summary>
internal sealed class EngineReader(EngineEndpoint endpoint)
{
    private readonly EngineMetricsParser _parser = new();
    private int? _capacity;

    public EngineKind Kind { get; private set; }

    /// <summary>Forgets the engine, so the next attempt is a detection.</summary>
    public void Reset()
    {
        Kind = EngineKind.None;
        _capacity = null;
    }

    /// <summary>
    /// Tries <c>/metrics</c> (vLLM, SGLang, llama.cpp with <c>--metrics</c>), then llama.cpp's <c>/slots</c>. A kind
    /// is kept when one is recognised even if this first reading is unusable (the problem is returned).
    /// </summary>
    public async Task<EngineAttempt> DetectAsync(EngineReading previous, CancellationToken cancellationToken)
    {
        Reset();
        var metricsProblem = await endpoint.ReadLinesAsync("/metrics", Start(), cancellationToken);
        if (_parser.Kind != EngineKind.None)
        {
            Kind = _parser.Kind;
            if (Kind == EngineKind.LlamaCpp)
            {
                _capacity = await ReadTotalSlotsAsync(cancellationToken);
            }

            return Finish(metricsProblem, previous);
        }

        var slots = await ReadSlotsAsync(previous, cancellationToken);
        if (slots.Reading is not null)
        {
            Kind = EngineKind.LlamaCppSlots;
            return slots;
        }

        return EngineAttempt.Failed(metricsProblem is null ? "no vLLM, SGLang or llama.cpp metrics" : $"/metrics: {metricsProblem}");
    }

    /// <summary>Reads the load of the engine found by <see cref="DetectAsync"/>.</summary>
    public async Task<EngineAttempt> ReadAsync(EngineReading previous, CancellationToken cancellationToken)
    {
        if (Kind == EngineKind.LlamaCppSlots)
        {
            return await ReadSlotsAsync(previous, cancellationToken);
        }

        var problem = await endpoint.ReadLinesAsync("/metrics", Start(), cancellationToken);
        if (problem is null && _parser.Kind != Kind)
        {
            return EngineAttempt.Failed(_parser.Kind == EngineKind.None ? "no vLLM, SGLang or llama.cpp metrics in the body" : "the metrics are another engine's now");
        }

        return Finish(problem, previous);
    }

    private EngineMetricsParser Start()
    {
        _parser.Reset();
        return _parser;
    }

    private EngineAttempt Finish(string? problem, EngineReading previous)
    {
        problem ??= _parser.Problem ?? (_parser.FoundAny ? null : "none of the gauges Synapse reads are there");
        if (problem is not null)
        {
            return EngineAttempt.Failed(problem);
        }

        return _parser.Matches(previous, _capacity) ? new EngineAttempt(previous, null) : new EngineAttempt(_parser.ToReading(_capacity), null);
    }

    private async Task<EngineAttempt> ReadSlotsAsync(EngineReading previous, CancellationToken cancellationToken)
    {
        var (buffer, length, problem) = await endpoint.ReadBodyAsync("/slots", cancellationToken);
        if (buffer is null)
        {
            return EngineAttempt.Failed($"/slots: {problem}");
        }

        try
        {
            if (!LlamaCppSlots.TryParseSlots(buffer.AsSpan(0, length), out var total, out var processing))
            {
                return EngineAttempt.Failed("/slots is not llama.cpp's list of slots");
            }

            var load = new EngineModelLoad(null, processing, null, null);
            return previous.Kind == EngineKind.LlamaCppSlots && previous.Capacity == total && previous.Models is [var same] && same == load
                ? new EngineAttempt(previous, null)
                : new EngineAttempt(new EngineReading(EngineKind.LlamaCppSlots, [load], total), null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<int?> ReadTotalSlotsAsync(CancellationToken cancellationToken)
    {
        var (buffer, length, _) = await endpoint.ReadBodyAsync("/props", cancellationToken);
        if (buffer is null)
        {
            return null;
        }

        try
        {
            return LlamaCppSlots.TryParseTotalSlots(buffer.AsSpan(0, length), out var total) ? total : null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
