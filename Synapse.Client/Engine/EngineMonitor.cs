using Microsoft.Extensions.Logging;
using Synapse.Client.Hosting;
using Synapse.Client.Upstream;

namespace Synapse.Client.Engine;

/// <summary>
/// Reads the engine's load every interval (500 ms by default) and publishes it when a value changed. It detects the
/// engine first; an upstream with nothing readable is asked again only every <see cref="RedetectInterval"/>. A reading
/// older than <see cref="StaleAfterIntervals"/> intervals counts as absent, and absence is published like any change.
/// Whatever goes wrong is said once per episode in the log (once when signals stop, once when they are back), never
/// once per interval.
/// </summary>
internal sealed partial class EngineMonitor
{
    /// <summary>A reading this many intervals old is no signal any more.</summary>
    public const int StaleAfterIntervals = 3;

    /// <summary>How often an upstream with no readable engine is asked again; also how long a known engine may fail before it is detected afresh.</summary>
    public static readonly TimeSpan RedetectInterval = TimeSpan.FromSeconds(30);

    private readonly EngineReader _reader;
    private readonly UpstreamClient _upstream;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private EngineReading _current = EngineReading.None;
    private EngineReading _lastGood = EngineReading.None;
    private long _lastGoodTick;
    private long _failingSince = -1;
    private long _nextDetect;
    private Said _said;

    public EngineMonitor(UpstreamClient upstream, AgentOptions options, ILogger<EngineMonitor> logger)
    {
        _upstream = upstream;
        _interval = options.EngineMetricsInterval;
        _logger = logger;
        // The whole read must end before the next one is due, so a stalled engine never piles up requests.
        var timeout = TimeSpan.FromMilliseconds(Math.Clamp(_interval.TotalMilliseconds * 0.8, 50, 5000));
        _reader = new EngineReader(new EngineEndpoint(upstream, timeout));
    }

    private enum Said
    {
        Nothing,
        Reading,
        Unavailable,
    }

    /// <summary>False with <c>--engine-metrics-interval 0</c>: nothing is read and no signal is ever sent.</summary>
    public bool Enabled => _interval > TimeSpan.Zero;

    public int IntervalMs => (int)_interval.TotalMilliseconds;

    /// <summary>The engine's load now; <see cref="EngineReading.None"/> when there is no fresh reading.</summary>
    public EngineReading Current => Volatile.Read(ref _current);

    /// <summary>Raised on the monitor's loop when <see cref="Current"/> changed (at most once per interval).</summary>
    public event Action<EngineReading>? Changed;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            LogDisabled(_logger);
            return;
        }

        using var timer = new PeriodicTimer(_interval);
        try
        {
            do
            {
                try
                {
                    await TickAsync(cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // A bug in one reading must not end the readings, nor the agent.
                    Unavailable($"unexpected {ex.GetType().Name}", Environment.TickCount64);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        EngineAttempt attempt;
        if (_reader.Kind == EngineKind.None)
        {
            if (now < _nextDetect)
            {
                ExpireIfStale(now);
                return;
            }

            attempt = await _reader.DetectAsync(_lastGood, cancellationToken);
            if (_reader.Kind == EngineKind.None)
            {
                _nextDetect = now + (long)RedetectInterval.TotalMilliseconds;
                NoEngine(attempt.Problem ?? "nothing found");
                ExpireIfStale(now);
                return;
            }
        }
        else
        {
            attempt = await _reader.ReadAsync(_lastGood, cancellationToken);
        }

        now = Environment.TickCount64;
        if (attempt.Reading is { } reading)
        {
            _failingSince = -1;
            if (_said != Said.Reading || reading.Kind != _lastGood.Kind)
            {
                LogReading(_logger, reading.EngineName ?? "?", _upstream.BaseUrl, _reader.Kind == EngineKind.LlamaCppSlots ? "/slots" : "/metrics", IntervalMs);
                _said = Said.Reading;
            }

            _lastGood = reading;
            _lastGoodTick = now;
            Publish(reading);
            return;
        }

        Unavailable(attempt.Problem ?? "unknown", now);
        ExpireIfStale(now);
    }

    private void Unavailable(string problem, long now)
    {
        if (_failingSince < 0)
        {
            _failingSince = now;
        }
        else if (now - _failingSince >= RedetectInterval.TotalMilliseconds)
        {
            // Failing for a long time: maybe another engine now; detect afresh, then only every RedetectInterval.
            _reader.Reset();
            _failingSince = -1;
            _nextDetect = now;
        }

        if (_said != Said.Unavailable)
        {
            LogUnreadable(_logger, _upstream.BaseUrl, problem, StaleAfterIntervals * IntervalMs);
            _said = Said.Unavailable;
        }
    }

    private void NoEngine(string problem)
    {
        if (_said == Said.Nothing)
        {
            LogNoEngine(_logger, _upstream.BaseUrl, problem, (int)RedetectInterval.TotalSeconds);
        }
        else if (_said == Said.Reading)
        {
            LogUnreadable(_logger, _upstream.BaseUrl, problem, StaleAfterIntervals * IntervalMs);
        }

        _said = Said.Unavailable;
    }

    private void ExpireIfStale(long now)
    {
        if (!Current.IsNone && now - _lastGoodTick > (long)StaleAfterIntervals * IntervalMs)
        {
            Publish(EngineReading.None);
        }
    }

    private void Publish(EngineReading reading)
    {
        var current = Current;
        if (ReferenceEquals(current, reading) || current.SameAs(reading))
        {
            return;
        }

        Volatile.Write(ref _current, reading);
        Changed?.Invoke(reading);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine signals are off (--engine-metrics-interval 0); the gateway balances on its own counts")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reading {Engine}'s load from {Upstream}{Path} every {IntervalMs} ms for the gateway")]
    private static partial void LogReading(ILogger logger, string engine, string upstream, string path, int intervalMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upstream {Upstream} has no engine metrics Synapse reads (vLLM, SGLang, llama.cpp: {Problem}); the gateway balances on its own counts. Checking again every {Seconds} s, quietly")]
    private static partial void LogNoEngine(ILogger logger, string upstream, string problem, int seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring the engine metrics of {Upstream}: {Problem}. Signals count as absent {StaleMs} ms after the last good reading; said once until they read well again")]
    private static partial void LogUnreadable(ILogger logger, string upstream, string problem, int staleMs);
}
