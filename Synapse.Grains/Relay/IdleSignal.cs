using System.Threading.Channels;

namespace Synapse.Grains.Relay;

/// <summary>
/// Lets a periodic loop sleep while it has nothing to look after: an idle silo then has no timer of the relay's
/// waking it. The side that adds work calls <see cref="Set"/> after adding it.
/// </summary>
internal sealed class IdleSignal
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public void Set() => _wake.Writer.TryWrite(true);

    /// <summary>Returns at once while <paramref name="busy"/> holds, else when it holds after a <see cref="Set"/>.</summary>
    public async ValueTask WaitUntilAsync(Func<bool> busy, CancellationToken cancellationToken)
    {
        while (true)
        {
            // A wake-up left from work that is already gone must not skip the check below.
            _wake.Reader.TryRead(out _);
            if (busy())
            {
                return;
            }

            await _wake.Reader.ReadAsync(cancellationToken);
        }
    }
}
