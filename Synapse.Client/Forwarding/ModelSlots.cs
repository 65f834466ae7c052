using System.Collections.Concurrent;

namespace Synapse.Client.Forwarding;

/// <summary>
/// The agent's own guard on <c>--max-concurrency</c> per model. The gateway already never sends more; this keeps
/// the promise even if it did (two gateways, a bug), by refusing the extra request so it is retried elsewhere.
/// </summary>
internal sealed class ModelSlots(int capacity)
{
    private readonly ConcurrentDictionary<string, StrongBox<int>> _inUse = new(StringComparer.Ordinal);

    public bool TryEnter(string model)
    {
        var box = _inUse.GetOrAdd(model, static _ => new StrongBox<int>());
        if (Interlocked.Increment(ref box.Value) <= capacity)
        {
            return true;
        }

        Interlocked.Decrement(ref box.Value);
        return false;
    }

    public void Exit(string model)
    {
        if (_inUse.TryGetValue(model, out var box))
        {
            Interlocked.Decrement(ref box.Value);
        }
    }

    public int InUse => _inUse.Values.Sum(b => Volatile.Read(ref b.Value));

    private sealed class StrongBox<T>
        where T : struct
    {
        public T Value;
    }
}
