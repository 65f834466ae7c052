namespace Synapse.Bench.Upstream;

/// <summary>
/// The prompt prefixes an engine has computed, as vLLM's automatic prefix caching keeps their KV blocks: a bounded
/// set, the least recently used forgotten first. A prefix is the first 1 KiB of the messages up to and including the
/// first user message (<see cref="EnginePrompt"/>). Counts hits and misses.
/// </summary>
internal sealed class PrefixCache(int capacity)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<string>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _order = [];
    private long _hits;
    private long _misses;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>True when the prefix was cached; either way it is the most recently used one afterwards.</summary>
    public bool Lookup(string prefix)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(prefix, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                Interlocked.Increment(ref _hits);
                return true;
            }

            _entries[prefix] = _order.AddFirst(prefix);
            if (_entries.Count > capacity)
            {
                _entries.Remove(_order.Last!.Value);
                _order.RemoveLast();
            }

            Interlocked.Increment(ref _misses);
            return false;
        }
    }

    /// <summary>A miss that is not remembered (the engine runs without <c>--prefix-cache</c>).</summary>
    public void Miss() => Interlocked.Increment(ref _misses);
}
