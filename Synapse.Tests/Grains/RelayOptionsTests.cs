using Microsoft.Extensions.Options;
using Synapse.Grains.Relay;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Grains;

[Trait("Category", "Unit")]
public sealed class RelayOptionsTests
{
    [Theory]
    [InlineData("BroadcastChannel")]
    [InlineData("MemoryStreams")]
    [InlineData(" memorystreams ")]
    public void Transport_AKnownName_IsAcceptedWhateverItsCase(string transport)
    {
        var result = new RelayOptionsValidator().Validate(null, new RelayOptions { Transport = transport });

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.NotNull(RelayTransports.Find(transport));
    }

    [Theory]
    [InlineData("Kafka")]
    [InlineData("")]
    public void Transport_AnUnknownName_FailsNamingTheOptionAndTheChoices(string transport)
    {
        var result = new RelayOptionsValidator().Validate(null, new RelayOptions { Transport = transport });

        Assert.True(result.Failed);
        Assert.Contains("Synapse:Relay:Transport", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("BroadcastChannel, MemoryStreams", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Transport_ByDefault_IsTheBroadcastChannel() =>
        Assert.Equal(RelayTransports.BroadcastChannel, new RelayOptions().Transport);

    [Fact]
    public async Task Gateway_WithAnUnknownTransport_RefusesToStartAndSaysWhy()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            TestGateway.StartAsync(new Dictionary<string, string?> { ["Synapse:Relay:Transport"] = "Kafka" }));

        Assert.Contains("Synapse:Relay:Transport must be one of BroadcastChannel, MemoryStreams (got 'Kafka')", error.Message, StringComparison.Ordinal);
    }
}
