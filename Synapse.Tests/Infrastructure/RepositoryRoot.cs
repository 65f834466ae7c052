namespace Synapse.Tests.Infrastructure;

/// <summary>The checkout the tests run from: the first folder above the test binaries holding Synapse.sln.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    public static string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public static string Read(params string[] parts) => System.IO.File.ReadAllText(File(parts));

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "Synapse.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Synapse.sln above {AppContext.BaseDirectory}");
    }
}
