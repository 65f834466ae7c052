using System.Text;
using Synapse.Protocol.Frames;

namespace Synapse.Client.Engine;

/// <summary>
/// Reads an engine's Prometheus <c>/metrics</c> one line at a time and keeps the few gauges that matter (requests
/// running, waiting, KV usage), summed per model label. It recognises vLLM, SGLang and llama.cpp by their metric
/// prefixes; the first one seen decides. One instance is reused for every reading, so a steady engine costs no
/// allocation per sample: model labels become strings only the first time they are seen.
/// </summary>
internal sealed class EngineMetricsParser
{
    /// <summary>More requests than any engine really holds: a value above it is garbage.</summary>
    public const int MaxCount = 10_000_000;

    private readonly List<Series> _series = [];
    private int _used;
    private int _lastHit;

    /// <summary>The engine whose metrics this body holds, <see cref="EngineKind.None"/> if none it knows.</summary>
    public EngineKind Kind { get; private set; }

    /// <summary>Why this body cannot be used (a NaN, a negative count, ...); null while it is fine.</summary>
    public string? Problem { get; private set; }

    /// <summary>True when a gauge the agent reads was found.</summary>
    public bool FoundAny { get; private set; }

    public void Reset()
    {
        Kind = EngineKind.None;
        Problem = null;
        FoundAny = false;
        _used = 0;
        _lastHit = 0;
    }

    /// <summary>Takes one line (without its line break).</summary>
    public void OnLine(ReadOnlySpan<byte> line)
    {
        if (Problem is not null || !PrometheusLine.TrySplit(line, out var name, out var labels, out var valueText))
        {
            return;
        }

        var kind = name.StartsWith(VllmMetrics.Prefix) ? EngineKind.Vllm
            : name.StartsWith(SglangMetrics.Prefix) ? EngineKind.Sglang
            : name.StartsWith(LlamaCppMetrics.Prefix) ? EngineKind.LlamaCpp
            : EngineKind.None;
        if (kind == EngineKind.None || (Kind != EngineKind.None && kind != Kind))
        {
            return;
        }

        var gauge = kind switch
        {
            EngineKind.Vllm => VllmMetrics.Classify(name),
            EngineKind.Sglang => SglangMetrics.Classify(name),
            _ => LlamaCppMetrics.Classify(name),
        };
        Kind = kind;
        if (gauge == EngineGauge.None || (kind == EngineKind.Sglang && !SglangMetrics.IsPrimaryRank(labels)))
        {
            return;
        }

        if (!TryReadValue(name, valueText, gauge, out var value))
        {
            return;
        }

        ReadOnlySpan<byte> model = default;
        var labelled = kind switch
        {
            EngineKind.Vllm => PrometheusLine.TryGetLabel(labels, VllmMetrics.ModelLabel, out model),
            EngineKind.Sglang => PrometheusLine.TryGetLabel(labels, SglangMetrics.ModelLabel, out model),
            _ => false,
        };
        if (labelled && model.Length > ProtocolLimits.MaxModelIdBytes)
        {
            Fail(name, "has a model label that is too long");
            return;
        }

        var series = Find(labelled, model);
        if (series is null)
        {
            return;
        }

        FoundAny = true;
        series.Add(gauge, value);
    }

    /// <summary>The sample's value, or false (and <see cref="Problem"/> set) when it is no usable value for the gauge.</summary>
    private bool TryReadValue(ReadOnlySpan<byte> name, ReadOnlySpan<byte> valueText, EngineGauge gauge, out double value)
    {
        if (!PrometheusLine.TryParseValue(valueText, out value))
        {
            Fail(name, "is not a number");
            return false;
        }

        if (!double.IsFinite(value))
        {
            Fail(name, "is not finite");
            return false;
        }

        if (value < 0)
        {
            Fail(name, "is negative");
            return false;
        }

        if (gauge is EngineGauge.KvUsage or EngineGauge.KvUsageLegacy ? value > 1.01 : value > MaxCount)
        {
            Fail(name, "is out of range");
            return false;
        }

        return true;
    }

    /// <summary>True when the body read since <see cref="Reset"/> gave the same values as <paramref name="previous"/>.</summary>
    public bool Matches(EngineReading previous, int? capacity)
    {
        if (previous.Kind != Kind || previous.Capacity != capacity || previous.Models.Count != CountUsable())
        {
            return false;
        }

        var i = 0;
        for (var s = 0; s < _used; s++)
        {
            if (_series[s].HasRunning && previous.Models[i++] != _series[s].ToLoad())
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The reading of the body read since <see cref="Reset"/>.</summary>
    public EngineReading ToReading(int? capacity)
    {
        var models = new List<EngineModelLoad>(_used);
        for (var s = 0; s < _used; s++)
        {
            if (_series[s].HasRunning)
            {
                models.Add(_series[s].ToLoad());
            }
        }

        return new EngineReading(Kind, models, capacity);
    }

    private int CountUsable()
    {
        var count = 0;
        for (var s = 0; s < _used; s++)
        {
            if (_series[s].HasRunning)
            {
                count++;
            }
        }

        return count;
    }

    private Series? Find(bool labelled, ReadOnlySpan<byte> model)
    {
        // Samples of one model come in runs, so the last hit is usually the answer.
        if (_lastHit < _used && _series[_lastHit].Is(labelled, model))
        {
            return _series[_lastHit];
        }

        for (var s = 0; s < _used; s++)
        {
            if (_series[s].Is(labelled, model))
            {
                _lastHit = s;
                return _series[s];
            }
        }

        if (_used >= ProtocolLimits.MaxModelsPerAgent)
        {
            Problem = $"it labels more than {ProtocolLimits.MaxModelsPerAgent} models";
            return null;
        }

        // Reuse a series from an earlier reading when it had the same label, else take a fresh slot.
        for (var s = _used; s < _series.Count; s++)
        {
            if (_series[s].Is(labelled, model))
            {
                (_series[_used], _series[s]) = (_series[s], _series[_used]);
                return Use(_series[_used]);
            }
        }

        if (_used < _series.Count)
        {
            _series[_used].Label(labelled, model);
            return Use(_series[_used]);
        }

        var fresh = new Series();
        fresh.Label(labelled, model);
        _series.Add(fresh);
        return Use(fresh);
    }

    private Series Use(Series series)
    {
        series.Clear();
        _lastHit = _used++;
        return series;
    }

    private void Fail(ReadOnlySpan<byte> name, string what) =>
        Problem = $"{Encoding.UTF8.GetString(name)} {what}";

    /// <summary>One model label's sums over the series of one body.</summary>
    private sealed class Series
    {
        private byte[] _raw = [];
        private bool _labelled;
        private string? _model;

        public double Running { get; set; }

        public bool HasRunning { get; set; }

        public double Waiting { get; set; }

        public bool HasWaiting { get; set; }

        public double KvSum { get; set; }

        public int KvCount { get; set; }

        public double LegacyKvSum { get; set; }

        public int LegacyKvCount { get; set; }

        public bool Is(bool labelled, ReadOnlySpan<byte> raw) => _labelled == labelled && _raw.AsSpan().SequenceEqual(raw);

        public void Label(bool labelled, ReadOnlySpan<byte> raw)
        {
            _labelled = labelled;
            _raw = raw.ToArray();
            _model = labelled ? PrometheusLine.Unescape(raw) : null;
        }

        /// <summary>Adds one sample to its gauge's sum; a KV usage counts as at most 1.</summary>
        public void Add(EngineGauge gauge, double value)
        {
            switch (gauge)
            {
                case EngineGauge.Running:
                    Running += value;
                    HasRunning = true;
                    break;
                case EngineGauge.Waiting:
                    Waiting += value;
                    HasWaiting = true;
                    break;
                case EngineGauge.KvUsage:
                    KvSum += Math.Min(value, 1);
                    KvCount++;
                    break;
                case EngineGauge.KvUsageLegacy:
                    LegacyKvSum += Math.Min(value, 1);
                    LegacyKvCount++;
                    break;
            }
        }

        public void Clear()
        {
            Running = Waiting = KvSum = LegacyKvSum = 0;
            KvCount = LegacyKvCount = 0;
            HasRunning = HasWaiting = false;
        }

        public EngineModelLoad ToLoad()
        {
            // The current KV gauge wins; vLLM 0.9-0.10 also still sends the old name with the same value.
            double? kv = KvCount > 0 ? KvSum / KvCount : LegacyKvCount > 0 ? LegacyKvSum / LegacyKvCount : null;
            return new EngineModelLoad(
                _model,
                (int)Math.Min(Math.Round(Running), MaxCount),
                HasWaiting ? (int)Math.Min(Math.Round(Waiting), MaxCount) : null,
                kv is { } k ? Math.Round(k, 3) : null);
        }
    }
}
