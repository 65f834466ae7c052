using Synapse.Protocol.Messages;

namespace Synapse.Client.Engine;

/// <summary>
/// One good reading of the engine: its load per model label, and the engine's capacity when it reports one.
/// Immutable; a new one exists only when a value changed.
/// </summary>
internal sealed class EngineReading
{
    public EngineReading(EngineKind kind, IReadOnlyList<EngineModelLoad> models, int? capacity)
    {
        Kind = kind;
        Models = models;
        Capacity = capacity;
        Total = Sum(models);
    }

    /// <summary>No signal: nothing read yet, nothing readable, or the last good reading is too old.</summary>
    public static EngineReading None { get; } = new(EngineKind.None, [], null);

    public EngineKind Kind { get; }

    public IReadOnlyList<EngineModelLoad> Models { get; }

    public int? Capacity { get; }

    /// <summary>The whole engine: queues summed, KV usage averaged over its series.</summary>
    public EngineModelLoad Total { get; }

    public bool IsNone => Models.Count == 0;

    /// <summary>The wire name of the engine (<c>vllm</c>, <c>sglang</c>, <c>llama.cpp</c>).</summary>
    public string? EngineName => Kind switch
    {
        EngineKind.Vllm => "vllm",
        EngineKind.Sglang => "sglang",
        EngineKind.LlamaCpp or EngineKind.LlamaCppSlots => "llama.cpp",
        _ => null,
    };

    public bool SameAs(EngineReading other) =>
        Kind == other.Kind && Capacity == other.Capacity && Models.SequenceEqual(other.Models);

    /// <summary>
    /// The frame for the models a socket advertised. A model the engine labels gets its own series; any other model
    /// of this upstream (an alias, a LoRA adapter, an engine that does not label) shares the engine's queue and KV
    /// cache, so it gets the whole engine's load.
    /// </summary>
    public EngineSignalsMessage ToMessage(IEnumerable<string> advertised, int intervalMs)
    {
        var models = new List<ModelEngineSignals>();
        if (!IsNone)
        {
            foreach (var model in advertised)
            {
                var load = Total;
                foreach (var candidate in Models)
                {
                    if (candidate.Model == model)
                    {
                        load = candidate;
                        break;
                    }
                }

                models.Add(new ModelEngineSignals
                {
                    Model = model,
                    Running = load.Running,
                    Waiting = load.Waiting,
                    KvUsage = load.KvUsage,
                    Capacity = Capacity,
                });
            }
        }

        return new EngineSignalsMessage { IntervalMs = intervalMs, Engine = IsNone ? null : EngineName, Models = models };
    }

    private static EngineModelLoad Sum(IReadOnlyList<EngineModelLoad> models)
    {
        if (models.Count == 1)
        {
            return models[0] with { Model = null };
        }

        long running = 0;
        long? waiting = null;
        double kvSum = 0;
        var kvCount = 0;
        foreach (var model in models)
        {
            running += model.Running;
            if (model.Waiting is { } w)
            {
                waiting = (waiting ?? 0) + w;
            }

            if (model.KvUsage is { } kv)
            {
                kvSum += kv;
                kvCount++;
            }
        }

        return new EngineModelLoad(
            null,
            (int)Math.Min(running, EngineMetricsParser.MaxCount),
            waiting is { } queued ? (int)Math.Min(queued, EngineMetricsParser.MaxCount) : null,
            kvCount == 0 ? null : Math.Round(kvSum / kvCount, 3));
    }
}
