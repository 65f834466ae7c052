using System.Text;

namespace Synapse.Tests.Infrastructure;

/// <summary>Reads server-sent events one at a time, as they arrive.</summary>
public sealed class SseReader(Stream stream)
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    /// <summary>The next event's data, or null at the end of the stream.</summary>
    public async Task<string?> NextDataAsync(CancellationToken cancellationToken = default)
    {
        var data = new StringBuilder();
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    return data.ToString();
                }

                continue;
            }

            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                if (data.Length > 0)
                {
                    data.Append('\n');
                }

                data.Append(line.AsSpan(5).TrimStart(' '));
            }
        }

        return data.Length > 0 ? data.ToString() : null;
    }

    public async Task<List<string>> ReadAllDataAsync(CancellationToken cancellationToken = default)
    {
        var all = new List<string>();
        while (await NextDataAsync(cancellationToken) is { } data)
        {
            all.Add(data);
        }

        return all;
    }
}
