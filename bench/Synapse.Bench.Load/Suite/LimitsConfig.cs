namespace Synapse.Bench.Load.Suite;

/// <summary>
/// The key-groups file of the limits phase: one group with its agent key and two API keys, one with limits no bench
/// load comes near (so every call still takes a request permit and a slot and has its tokens charged, and none is
/// refused) and one without. It lives in a directory of its own, deleted afterwards: the gateway watches the file's
/// directory, and the log directory changes with every line a process writes.
/// </summary>
internal sealed class LimitsConfig : IDisposable
{
    public const string AgentKey = "bench-ws";

    public const string LimitedKey = "bench-limited";

    public const string PlainKey = "bench-plain";

    /// <summary>The limited key's limits, as the file and the report give them.</summary>
    public const string Limits = "rpm: 100000000, tpm: 100000000000, max_parallel: 100000";

    private const string Yaml = $$"""
        groups:
          - name: bench
            ws_auth_keys: [{{AgentKey}}]
            api_keys:
              - { name: limited, key: {{LimitedKey}}, limits: { {{Limits}} } }
              - { name: plain, key: {{PlainKey}} }
        """;

    private readonly DirectoryInfo _directory;

    private LimitsConfig(DirectoryInfo directory, string file)
    {
        _directory = directory;
        File = file;
    }

    public string File { get; }

    public static LimitsConfig Write()
    {
        var directory = Directory.CreateTempSubdirectory("synapse-bench-limits-");
        var file = Path.Combine(directory.FullName, "groups.yaml");
        System.IO.File.WriteAllText(file, Yaml + "\n");
        return new LimitsConfig(directory, file);
    }

    public void Dispose()
    {
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
