using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Synapse.Client.Observability;

/// <summary>
/// One line per log entry on stdout, written synchronously: the agent logs little, and the console logger's
/// queue, thread, options and formatters cost more resident memory than the whole request path.
/// </summary>
public sealed class LineLoggerProvider(TextWriter output, TimeProvider clock) : ILoggerProvider
{
    private readonly ConcurrentDictionary<string, LineLogger> _loggers = new(StringComparer.Ordinal);
    private readonly Lock _write = new();

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, name => new LineLogger(this, name));

    public void Dispose() => output.Flush();

    private void Write(string category, LogLevel level, EventId id, string message, Exception? exception)
    {
        var line = $"{clock.GetLocalNow():HH:mm:ss.fff} {Label(level)}: {category}[{id.Id}] {message}";
        lock (_write)
        {
            output.WriteLine(line);
            if (exception is not null)
            {
                output.WriteLine(exception.ToString());
            }

            output.Flush();
        }
    }

    private static string Label(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

    private sealed class LineLogger(LineLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, eventId, formatter(state, exception), exception);
            }
        }
    }
}
