namespace Synapse.Bench.Load.Suite;

/// <summary>Every process this run started, so that all of them are stopped however the run ends.</summary>
internal sealed class ProcessSet(SuiteSettings settings) : IDisposable
{
    private readonly List<ChildProcess> _all = [];

    public ChildProcess Start(string name, string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var process = ChildProcess.Start(name, program, args, environment, settings.LogDirectory, settings.PidFile);
        lock (_all)
        {
            _all.Add(process);
        }

        return process;
    }

    public static Task StopAsync(ChildProcess process) => process.StopAsync();

    public async Task StopAllAsync()
    {
        foreach (var process in Snapshot())
        {
            await process.StopAsync();
        }
    }

    public void KillAll()
    {
        foreach (var process in Snapshot())
        {
            process.Kill();
        }
    }

    public void Dispose()
    {
        foreach (var process in Snapshot())
        {
            process.Dispose();
        }
    }

    private ChildProcess[] Snapshot()
    {
        lock (_all)
        {
            return [.. _all];
        }
    }
}
