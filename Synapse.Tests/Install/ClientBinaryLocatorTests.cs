using Synapse.Silo.Install;

namespace Synapse.Tests.Install;

/// <summary>Where the gateway finds agent binaries, on real folders laid out as a checkout after <c>make all</c>.</summary>
[Trait("Category", "Unit")]
public sealed class ClientBinaryLocatorTests : IDisposable
{
    private const ushort X64 = 0x3E;
    private const ushort Arm64 = 0xB7;

    private readonly string _temp = Directory.CreateTempSubdirectory("synapse-locator-").FullName;

    [Fact]
    public void FindAll_DotnetRunFromTheRepositoryRoot_FindsWhatMakeAllPublished()
    {
        var root = Checkout("repo");
        var published = Elf(root, X64, "artifacts", "publish", "linux-x64", "client", "synapse-client");

        var found = Locate(null, root, Path.Combine(root, "Synapse.Silo", "bin", "Release", "net10.0"));

        var binary = Assert.Single(found);
        Assert.Equal(("linux-x64", published), (binary.Platform, binary.File.FullName));
    }

    [Fact]
    public void FindAll_StartedFromTheProjectFolder_WalksUpToTheCheckout()
    {
        var root = Checkout("repo");
        var binClient = Elf(root, X64, "bin", "client");

        var found = Locate(null, Path.Combine(root, "Synapse.Silo"), Path.Combine(root, "Synapse.Silo", "bin", "Debug", "net10.0"));

        Assert.Equal(binClient, Assert.Single(found).File.FullName);
    }

    [Fact]
    public void FindAll_BinServerStartedElsewhere_FindsBinClientBesideIt()
    {
        var root = Checkout("repo");
        var binClient = Elf(root, X64, "bin", "client");
        var elsewhere = Directory.CreateDirectory(Path.Combine(_temp, "elsewhere")).FullName;

        var found = Locate(null, elsewhere, Path.Combine(root, "bin"));

        Assert.Equal(binClient, Assert.Single(found).File.FullName);
    }

    [Fact]
    public void FindAll_BothPlatformsBuilt_ServesEachFromItsOwnFile()
    {
        var root = Checkout("repo");
        var x64 = Elf(root, X64, "artifacts", "publish", "linux-x64", "client", "synapse-client");
        var arm = Elf(root, Arm64, "artifacts", "publish", "linux-arm64", "client", "synapse-client");
        Elf(root, Arm64, "bin", "client");

        var found = Locate(null, root, root);

        Assert.Equal([("linux-x64", x64), ("linux-arm64", arm)], found.Select(b => (b.Platform, b.File.FullName)));
    }

    [Fact]
    public void FindAll_BinClientBuiltForArm_IsServedForArmNotX64()
    {
        var root = Checkout("repo");
        var binClient = Elf(root, Arm64, "bin", "client");

        var found = Locate(null, root, root);

        Assert.Equal(("linux-arm64", binClient), (Assert.Single(found).Platform, Assert.Single(found).File.FullName));
    }

    [Fact]
    public void FindAll_TwoCheckouts_TheCurrentDirectorysWins()
    {
        var here = Checkout("here");
        var mine = Elf(here, X64, "bin", "client");
        var other = Checkout("other");
        Elf(other, X64, "bin", "client");

        var found = Locate(null, here, Path.Combine(other, "Synapse.Silo", "bin", "Release", "net10.0"));

        Assert.Equal(mine, Assert.Single(found).File.FullName);
    }

    [Fact]
    public void FindAll_ClientInTheCurrentDirectory_StillServedAsTheOldDefault()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_temp, "app")).FullName;
        var file = Elf(folder, X64, "client", "linux-x64", "synapse-client");

        var found = Locate(null, folder, Path.Combine(_temp, "nowhere"));

        Assert.Equal(file, Assert.Single(found).File.FullName);
    }

    [Fact]
    public void FindAll_FlagGiven_IsTheOnlyPlaceLookedAt()
    {
        var root = Checkout("repo");
        Elf(root, X64, "bin", "client");
        var empty = Directory.CreateDirectory(Path.Combine(_temp, "empty")).FullName;

        var locator = new ClientBinaryLocator(empty, root, root);

        Assert.True(locator.IsConfigured);
        Assert.Empty(locator.FindAll());
    }

    [Fact]
    public void FindAll_FlagNamesAFolder_ServesEveryPlatformInIt()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_temp, "clients")).FullName;
        var x64 = Elf(folder, X64, "linux-x64", "synapse-client");
        var arm = Elf(folder, Arm64, "linux-arm64", "synapse-client");

        var found = Locate(folder, _temp, _temp);

        Assert.Equal([("linux-x64", x64), ("linux-arm64", arm)], found.Select(b => (b.Platform, b.File.FullName)));
    }

    [Fact]
    public void FindAll_FlagNamesARelativeFile_ResolvedFromTheCurrentDirectory()
    {
        var file = Elf(_temp, Arm64, "agents", "synapse-client");

        var found = Locate("agents/synapse-client", _temp, "/");

        Assert.Equal(("linux-arm64", file), (Assert.Single(found).Platform, Assert.Single(found).File.FullName));
    }

    [Fact]
    public void FindAll_NoCheckoutAndNoFlag_FindsNothing()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_temp, "plain")).FullName;

        Assert.Empty(Locate(null, folder, folder));
    }

    [Fact]
    public void FindAll_MakeAllRunAfterTheGatewayStarted_IsFoundWithoutARestart()
    {
        var root = Checkout("repo");
        var locator = new ClientBinaryLocator(null, root, root);
        Assert.Empty(locator.FindAll());

        var binClient = Elf(root, X64, "bin", "client");

        Assert.Equal(binClient, locator.Find("linux-x64")?.FullName);
        Assert.Null(locator.Find("linux-arm64"));
        Assert.Null(locator.Find("windows-x64"));
    }

    [Fact]
    public void PlatformOf_ReadsTheElfHeader_AndTreatsAScriptAsX64()
    {
        var x64 = Elf(_temp, X64, "a");
        var arm = Elf(_temp, Arm64, "b");
        var riscv = Elf(_temp, 0xF3, "c");
        var script = Path.Combine(_temp, "d");
        File.WriteAllText(script, "#!/usr/bin/env bash\necho 0.1.0\n");

        Assert.Equal("linux-x64", ClientBinaryLocator.PlatformOf(new FileInfo(x64)));
        Assert.Equal("linux-arm64", ClientBinaryLocator.PlatformOf(new FileInfo(arm)));
        Assert.Null(ClientBinaryLocator.PlatformOf(new FileInfo(riscv)));
        Assert.Equal("linux-x64", ClientBinaryLocator.PlatformOf(new FileInfo(script)));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_temp, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static IReadOnlyList<ClientBinary> Locate(string? configured, string currentDirectory, string executableDirectory) =>
        new ClientBinaryLocator(configured, currentDirectory, executableDirectory).FindAll();

    /// <summary>A folder marked as a Synapse checkout, with the project folders a build leaves.</summary>
    private string Checkout(string name)
    {
        var root = Directory.CreateDirectory(Path.Combine(_temp, name)).FullName;
        File.WriteAllText(Path.Combine(root, ClientBinaryLocator.RepositoryMarker), string.Empty);
        Directory.CreateDirectory(Path.Combine(root, "Synapse.Silo", "bin", "Release", "net10.0"));
        Directory.CreateDirectory(Path.Combine(root, "Synapse.Silo", "bin", "Debug", "net10.0"));
        return root;
    }

    /// <summary>A file that starts like a 64-bit little-endian ELF executable for <paramref name="machine"/>.</summary>
    private static string Elf(string root, ushort machine, params string[] parts)
    {
        var path = Path.Combine([root, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var header = new byte[64];
        header[0] = 0x7F;
        header[1] = (byte)'E';
        header[2] = (byte)'L';
        header[3] = (byte)'F';
        header[4] = 2;
        header[5] = 1;
        header[6] = 1;
        header[16] = 2;
        header[18] = (byte)(machine & 0xFF);
        header[19] = (byte)(machine >> 8);
        File.WriteAllBytes(path, header);
        return path;
    }
}
