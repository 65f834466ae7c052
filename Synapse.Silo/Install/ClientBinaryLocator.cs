namespace Synapse.Silo.Install;

/// <summary>
/// Where the gateway looks for the agent binaries it hands out. <c>--client-binary</c>, when given, is the only
/// place: one file, or a folder with <c>linux-x64/synapse-client</c>, <c>linux-arm64/synapse-client</c>, ... (the
/// Docker image's layout). Without it, a gateway run from a source checkout finds what <c>make all</c> built, for
/// each platform the first of:
/// <list type="number">
/// <item><c>client</c> (file or folder) in the current directory, then beside the executable: the old default, and
/// <c>bin/client</c> when the gateway is <c>bin/server</c>;</item>
/// <item>in the checkout holding the current directory, then the one holding the executable (the first folder above
/// with <c>Synapse.sln</c>): <c>artifacts/publish/&lt;rid&gt;/client/synapse-client</c>, then <c>bin/client</c>.</item>
/// </list>
/// Nothing is cached: a <c>make all</c> run after the gateway started is served at once.
/// </summary>
internal sealed class ClientBinaryLocator(string? configured, string currentDirectory, string executableDirectory)
{
    public const string FileName = "synapse-client";

    public const string RepositoryMarker = "Synapse.sln";

    /// <summary>The platforms an agent is built for, in the order they are listed.</summary>
    public static readonly IReadOnlyList<string> Platforms = ["linux-x64", "linux-arm64"];

    /// <summary>True when <c>--client-binary</c> names the place; false when the checkout is searched.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(configured);

    /// <summary>Every platform with a binary, each from the first place in the search order that has one.</summary>
    public IReadOnlyList<ClientBinary> FindAll()
    {
        var found = new List<ClientBinary>();
        foreach (var candidate in Candidates())
        {
            if (candidate.Exists && found.TrueForAll(b => b.Platform != candidate.Platform))
            {
                found.Add(new ClientBinary(candidate.Platform, candidate.File));
            }
        }

        found.Sort((a, b) => IndexOf(a.Platform).CompareTo(IndexOf(b.Platform)));
        return found;
    }

    /// <summary>The binary for <paramref name="platform"/> (<c>linux-x64</c>, ...), or null.</summary>
    public FileInfo? Find(string platform) =>
        IndexOf(platform) < 0 ? null : FindAll().FirstOrDefault(b => b.Platform == platform)?.File;

    /// <summary>
    /// The platform a single binary is for, read from its ELF header; a file that is not ELF (a script standing in
    /// for the agent) counts as linux-x64, as a single <c>--client-binary</c> file always did. Null: another machine.
    /// </summary>
    public static string? PlatformOf(FileInfo file)
    {
        Span<byte> header = stackalloc byte[20];
        try
        {
            using var stream = file.OpenRead();
            if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length
                || header[0] != 0x7F || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F')
            {
                return "linux-x64";
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // e_machine, little-endian (EI_DATA 1) as both platforms are.
        var machine = header[5] == 1 ? header[18] | (header[19] << 8) : -1;
        return machine switch
        {
            0x3E => "linux-x64",
            0xB7 => "linux-arm64",
            _ => null,
        };
    }

    private IEnumerable<Candidate> Candidates()
    {
        if (IsConfigured)
        {
            return FromPath(Path.GetFullPath(configured!, currentDirectory));
        }

        string[] anchors = [Path.GetFullPath(currentDirectory), Path.GetFullPath(executableDirectory)];
        var checkouts = anchors.Select(CheckoutOf).OfType<string>().Distinct(StringComparer.Ordinal);
        return anchors.Distinct(StringComparer.Ordinal).SelectMany(a => FromPath(Path.Combine(a, "client")))
            .Concat(checkouts.SelectMany(FromCheckout));
    }

    /// <summary>A single file (its platform from its header) or a folder of <c>&lt;rid&gt;/synapse-client</c>.</summary>
    private static IEnumerable<Candidate> FromPath(string path)
    {
        if (Directory.Exists(path))
        {
            return Platforms.Select(p => new Candidate(p, new FileInfo(Path.Combine(path, p, FileName))));
        }

        var file = new FileInfo(path);
        return file.Exists && PlatformOf(file) is { } platform ? [new Candidate(platform, file)] : [];
    }

    /// <summary>What <c>make all</c> (and <c>make all RID=linux-arm64</c>) leaves in a checkout.</summary>
    private static IEnumerable<Candidate> FromCheckout(string root) =>
        Platforms.Select(p => new Candidate(p, new FileInfo(Path.Combine(root, "artifacts", "publish", p, "client", FileName))))
            .Concat(FromPath(Path.Combine(root, "bin", "client")));

    private static string? CheckoutOf(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, RepositoryMarker)))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private static int IndexOf(string platform)
    {
        for (var i = 0; i < Platforms.Count; i++)
        {
            if (Platforms[i] == platform)
            {
                return i;
            }
        }

        return -1;
    }

    private sealed record Candidate(string Platform, FileInfo File)
    {
        public bool Exists => File.Exists;
    }
}
