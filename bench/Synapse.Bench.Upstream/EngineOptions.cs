namespace Synapse.Bench.Upstream;

/// <summary>
/// How the fake engine behaves (<see cref="FakeEngine"/>); any of its command-line options turns engine mode on.
/// </summary>
internal sealed record EngineOptions
{
    /// <summary>vLLM's default <c>max_num_seqs</c> (V0, and V1 on most GPUs).</summary>
    public const int DefaultSlots = 256;

    /// <summary>Requests generated at once (<c>--engine-slots</c>); more wait in a FIFO queue, like vLLM's scheduler.</summary>
    public int Slots { get; init; } = DefaultSlots;

    /// <summary>Delay per token, every request alike (<c>--token-delay-ms</c>); null: each request's own, as the fast fake reads it.</summary>
    public int? TokenDelayMs { get; init; }

    /// <summary>From getting a slot to the first token on a prefix-cache miss (<c>--prefill-ms</c>); null: one token's delay.</summary>
    public int? PrefillMs { get; init; }

    /// <summary>The same on a prefix-cache hit (<c>--prefill-hit-ms</c>); null: as on a miss.</summary>
    public int? PrefillHitMs { get; init; }

    /// <summary>Remember the prompt prefixes seen (<c>--prefix-cache</c>); without it every request is a miss.</summary>
    public bool PrefixCache { get; init; }

    /// <summary>Prefixes remembered, least recently used forgotten first (<c>--prefix-capacity</c>).</summary>
    public int PrefixCapacity { get; init; } = 64;

    /// <summary>
    /// KV cache size in tokens (<c>--kv-tokens</c>); null: 2,048 per slot. KV usage is the tokens running requests hold
    /// (prompt, about 4 bytes a token, plus what they generated so far) over this.
    /// </summary>
    public int? KvTokens { get; init; }

    public int KvCapacity => KvTokens ?? Slots * 2048;

    /// <summary>Options from the command line; <paramref name="problem"/> says what is wrong.</summary>
    public static bool TryApply(EngineOptions options, string flag, Func<string?> next, out EngineOptions result, out string? problem)
    {
        result = options;
        problem = null;
        int Number(int min)
        {
            var text = next();
            if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min)
            {
                throw new FormatException($"{flag} needs a whole number of at least {min}, not '{text}'");
            }

            return value;
        }

        try
        {
            result = flag switch
            {
                "--engine-slots" => options with { Slots = Number(1) },
                "--token-delay-ms" => options with { TokenDelayMs = Number(0) },
                "--prefill-ms" => options with { PrefillMs = Number(0) },
                "--prefill-hit-ms" => options with { PrefillHitMs = Number(0) },
                "--prefix-cache" => options with { PrefixCache = true },
                "--prefix-capacity" => options with { PrefixCapacity = Number(1) },
                "--kv-tokens" => options with { KvTokens = Number(1) },
                _ => throw new ArgumentException(flag),
            };
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (FormatException ex)
        {
            problem = ex.Message;
            return false;
        }
    }
}
