using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Install;

/// <summary>A freshly published agent and a gateway that serves it.</summary>
public sealed class InstallFixture : IAsyncLifetime
{
    public PublishedAgent Agent { get; } = new();

    public TestGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Agent.InitializeAsync();
        Gateway = await TestGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Synapse:Gateway:ClientBinary"] = Agent.Folder,
        });
    }

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class InstallCollection : ICollectionFixture<InstallFixture>
{
    public const string Name = "install";
}
