namespace Synapse.Silo.Forwarding;

/// <summary>Tracks an event stream's last bytes, so an error event appended to it starts on an event boundary.</summary>
internal struct EventBoundary
{
    private byte _last;
    private byte _beforeLast;

    public bool Any { get; private set; }

    public void Observe(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 2)
        {
            _beforeLast = bytes[^2];
            _last = bytes[^1];
        }
        else if (bytes.Length == 1)
        {
            _beforeLast = _last;
            _last = bytes[0];
        }

        Any |= bytes.Length > 0;
    }

    /// <summary>What must be written before a new event: nothing, one newline or two.</summary>
    public readonly ReadOnlySpan<byte> Terminator =>
        !Any || (_last == '\n' && _beforeLast == '\n') ? [] : _last == '\n' ? "\n"u8 : "\n\n"u8;
}
