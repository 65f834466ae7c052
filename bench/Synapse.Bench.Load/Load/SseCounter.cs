namespace Synapse.Bench.Load.Load;

/// <summary>
/// Splits a server-sent-event stream into events as its bytes arrive (lines may be cut anywhere by the network),
/// noting when each event completes. An event is one or more <c>data:</c> lines ended by an empty line.
/// </summary>
internal sealed class SseCounter
{
    private const int PrefixBytes = 16;
    private readonly byte[] _prefix = new byte[PrefixBytes];
    private int _lineLength;
    private bool _eventHasData;

    /// <summary>Events completed so far.</summary>
    public int Events { get; private set; }

    /// <summary><c>data: [DONE]</c> arrived.</summary>
    public bool Done { get; private set; }

    /// <summary>An error event (<c>data: {"error"...</c>) arrived.</summary>
    public bool ErrorEvent { get; private set; }

    /// <summary>Feeds bytes; returns how many events they completed.</summary>
    public int Feed(ReadOnlySpan<byte> data)
    {
        var completed = 0;
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            var part = newline < 0 ? data : data[..newline];
            if (_lineLength < PrefixBytes)
            {
                var take = Math.Min(PrefixBytes - _lineLength, part.Length);
                part[..take].CopyTo(_prefix.AsSpan(_lineLength));
            }

            _lineLength += part.Length;
            if (newline < 0)
            {
                break;
            }

            var line = _prefix.AsSpan(0, Math.Min(_lineLength, PrefixBytes));
            if (line.IsEmpty || (_lineLength == 1 && line[0] == (byte)'\r'))
            {
                if (_eventHasData)
                {
                    _eventHasData = false;
                    Events++;
                    completed++;
                }
            }
            else if (line.StartsWith("data:"u8))
            {
                _eventHasData = true;
                Done |= line.StartsWith("data: [DONE]"u8);
                ErrorEvent |= line.StartsWith("data: {\"error\""u8);
            }

            _lineLength = 0;
            data = data[(newline + 1)..];
        }

        return completed;
    }
}
